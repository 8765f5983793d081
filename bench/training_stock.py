"""`python -m bench.training_stock JOB.json OUT.json`: the baseline the training benchmark
compares against, in its own process (so its memory is measured apart).

Stock TRL as a user would configure it for this CPU: `DPOTrainer` with a PEFT LoRA on all
linear layers, fp32, no gradient checkpointing, TRL's own reference pass every step, and
nothing of Tether's (no shared frozen layers, no packing, no caches, TRL's CPU LM head).
The same pairs, hyperparameters and held-out scoring (`tether.training.evaluate`) as
Tether's run.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


def main(job_file: str, out_file: str) -> int:
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import DPOConfig, DPOTrainer

    from tether.embedded import ensure_plain_model
    from tether.training.evaluate import evaluate
    from tether.training.scoring import load_adapter_model
    from tether.training.trainer import fit_rows

    job: dict[str, Any] = json.loads(Path(job_file).read_text())
    h = job["hyper"]
    base = ensure_plain_model()
    tok = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    rows = fit_rows(job["train"], tok, h["max_length"])
    clock: dict[str, float] = {}

    class Clock(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            clock["start"] = time.perf_counter()

        def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            clock["end"] = time.perf_counter()
            clock["steps"] = state.global_step

    built = time.perf_counter()
    trainer = DPOTrainer(
        model=model,
        args=DPOConfig(
            output_dir=str(Path(job["workdir"]) / "stock-trainer"),
            per_device_train_batch_size=h["micro_batch_size"],
            gradient_accumulation_steps=max(1, h["batch_size"] // h["micro_batch_size"]),
            num_train_epochs=1,
            learning_rate=h["learning_rate"],
            lr_scheduler_type="constant",
            logging_steps=1,
            save_strategy="no",
            report_to="none",
            disable_tqdm=True,
            seed=h["seed"],
            data_seed=h["seed"],
            max_length=h["max_length"],
            beta=h["beta"],
            use_cpu=True,
            bf16=False,
            fp16=False,
            gradient_checkpointing=False,
        ),
        train_dataset=Dataset.from_list(rows),
        processing_class=tok,
        peft_config=LoraConfig(
            r=h["lora_r"],
            lora_alpha=h["lora_alpha"],
            lora_dropout=0.0,
            target_modules="all-linear",
            bias="none",
            task_type="CAUSAL_LM",
        ),
        callbacks=[Clock()],
    )
    prepare = time.perf_counter() - built
    trainer.train()
    out_dir = Path(job["workdir"]) / "stock-adapter"
    trainer.model.save_pretrained(out_dir)
    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    del trainer, model
    am = load_adapter_model(out_dir, device="cpu", version="stock", beta=h["beta"])
    report = evaluate(
        am,
        job["heldout"],
        [],
        candidate="stock",
        active=None,
        beta=h["beta"],
        max_length=h["max_length"],
    )
    Path(out_file).write_text(
        json.dumps(
            {
                "train_seconds": clock["end"] - clock["start"],
                "prepare_seconds": prepare,
                "steps": clock["steps"],
                "pairs": len(rows),
                "trainable_parameters": trainable,
                "metrics": report.model_dump(mode="json"),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
