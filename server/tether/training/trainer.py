"""One training run inside the worker process: LoRA with TRL, then the held-out eval.

DPO runs `dpo.TetherDPOTrainer`: LoRA on the top K layers (`training.lora_layers`), the
frozen layers once per pair and the reference log-probabilities precomputed, both cached
on disk for the next run (`frozen.py`, `feature_cache.py`). A first run trains from the
base model on all the data; a retrain continues the active adapter on the new pairs plus a
replay of older ones (`incremental.py`), and `--force` starts from the base again. The
DPO reference is always the base (adapters disabled): the same one the gate and the
reranker measure rewards against. KTO runs `kto.TetherKTOTrainer` (TRL's, with the LM head
on the completion positions only) with LoRA on the same top K layers, so its backward pass
stops there too, and its reference log-probabilities (and their KL estimates) computed once
before the loop rather than at every step.
"""

from __future__ import annotations

import gc
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tether.training.device import precision_args, resolve_device
from tether.training.lineage import ADAPTER_FILE, file_sha256
from tether.training.models import ProgressEvent, TrainingJob, WorkerReport

Emit = Callable[[ProgressEvent], None]


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def fit_rows(rows: list[dict[str, Any]], tokenizer: Any, max_length: int) -> list[dict[str, Any]]:
    """Cut over-long prompts from the left so every example fits in `max_length` tokens.

    TRL drops an example whose prompt alone fills `max_length` and cuts completions from
    the right; but the end of a prompt (the code to change, the assistant turn) and the
    whole answer are what the preference is about, so the start of the prompt goes first.
    The eval (`scoring.sequence_logps`) cuts the same way.
    """
    out: list[dict[str, Any]] = []
    for row in rows:
        answers = [row[k] for k in ("chosen", "rejected", "completion") if k in row]
        longest = max(len(tokenizer(a, add_special_tokens=False)["input_ids"]) for a in answers)
        room = max(max_length - longest - 2, max_length // 4)  # 2: EOS and a merge at the seam
        ids = tokenizer(row["prompt"], add_special_tokens=False)["input_ids"]
        if len(ids) > room:
            row = {**row, "prompt": tokenizer.decode(ids[-room:])}
        out.append(row)
    return out


def _progress_callback(
    emit: Emit, clock: dict[str, float], checkpoints: tuple[list[int], str | None] = ([], None)
) -> Any:
    from transformers import TrainerCallback

    save_at, save_dir = set(checkpoints[0]), checkpoints[1]

    class Progress(TrainerCallback):
        """Turns the Trainer's step and log events into progress lines."""

        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            clock["start"] = time.perf_counter()
            emit(
                ProgressEvent(
                    event="progress",
                    phase="training",
                    step=0,
                    total=state.max_steps,
                    message="training",
                )
            )

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            loss = (logs or {}).get("loss")
            if loss is None:
                return
            clock["loss"] = float(loss)
            if (logs or {}).get("num_tokens") is not None:
                clock["tokens"] = float(logs["num_tokens"])
            emit(
                ProgressEvent(
                    event="progress",
                    phase="training",
                    step=state.global_step,
                    total=state.max_steps,
                    loss=float(loss),
                    message=f"step {state.global_step}/{state.max_steps}",
                )
            )

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if save_dir and state.global_step in save_at and kw.get("model") is not None:
                kw["model"].save_pretrained(Path(save_dir) / f"step-{state.global_step}")

        def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            clock["end"] = time.perf_counter()
            clock["steps"] = float(state.global_step)

    return Progress()


def micro_batches(method: str, batch_size: int, micro_batch_size: int) -> tuple[int, int]:
    """(examples per forward pass, passes per optimizer step).

    Activations, not weights, fill memory when training a small model (about 2 MB per
    token for SmolLM2-135M without checkpointing), so a step of `batch_size` examples runs
    as several small passes with gradient accumulation. KTO estimates its KL term from the
    other completions of a pass, so it needs at least 2 per pass.
    """
    micro = max(micro_batch_size, 2) if method == "kto" else micro_batch_size
    micro = min(micro, batch_size)
    return micro, max(1, math.ceil(batch_size / micro))


def _common_args(job: TrainingJob, device: str) -> dict[str, Any]:
    """TrainingArguments both methods share, all from the job's hyperparameters."""
    h = job.hyper
    micro, accumulation = micro_batches(job.method, h.batch_size, h.micro_batch_size)
    return dict(
        output_dir=str(Path(job.output_dir).parent / "trainer"),
        per_device_train_batch_size=micro,
        gradient_accumulation_steps=accumulation,
        num_train_epochs=h.epochs,
        max_steps=h.max_steps,
        learning_rate=h.learning_rate,
        lr_scheduler_type="constant",
        logging_steps=1,
        save_strategy="no",
        eval_strategy="no",
        report_to="none",
        disable_tqdm=True,
        seed=h.seed,
        data_seed=h.seed,
        max_length=h.max_length,
        beta=h.beta,
        dataloader_num_workers=0,
        **{**precision_args(device), "gradient_checkpointing": h.gradient_checkpointing},
    )


def _dpo_trainer(
    job: TrainingJob,
    model: Any,
    tokenizer: Any,
    rows: list[dict[str, Any]],
    device: str,
    callback: Any,
    cache: Any,
) -> Any:
    """TRL's DPO trainer with LoRA on the top K layers, shared frozen layers and caches."""
    from datasets import Dataset
    from trl import DPOConfig

    from tether.training.dpo import top_layer_lora, trainer_class

    h = job.hyper
    common = _common_args(job, device)
    config = DPOConfig(
        **common,
        precompute_ref_log_probs=True,
        precompute_ref_batch_size=common["per_device_train_batch_size"],
    )
    if job.warm_start:  # incremental: continue the active adapter's weights
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, job.warm_start, is_trainable=True)
        peft_config = None
    else:
        peft_config = top_layer_lora(
            model,
            r=h.lora_r,
            alpha=h.lora_alpha,
            dropout=h.lora_dropout,
            lora_layers=h.lora_layers,
        )
    return trainer_class()(
        model=model,
        args=config,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[callback],
        lora_layers=h.lora_layers,
        cache=cache,
    )


def _kto_trainer(
    job: TrainingJob,
    model: Any,
    tokenizer: Any,
    rows: list[dict[str, Any]],
    device: str,
    callback: Any,
) -> Any:
    from datasets import Dataset
    from trl import KTOConfig

    from tether.training.dpo import top_layer_lora
    from tether.training.kto import kto_trainer_class

    h = job.hyper
    common = _common_args(job, device)
    peft_config = top_layer_lora(
        model, r=h.lora_r, alpha=h.lora_alpha, dropout=h.lora_dropout, lora_layers=h.lora_layers
    )
    desirable = sum(1 for r in rows if r["label"])
    undesirable = len(rows) - desirable
    # Balance the two kinds as the KTO paper suggests (weight x count about equal).
    weights = {"desirable_weight": 1.0, "undesirable_weight": 1.0}
    if desirable and undesirable:
        if desirable < undesirable:
            weights["desirable_weight"] = round(undesirable / desirable, 3)
        else:
            weights["undesirable_weight"] = round(desirable / undesirable, 3)
    return kto_trainer_class()(
        model=model,
        args=KTOConfig(
            **common,
            **weights,
            # the reference is the base (adapter off): score it once, not once per step
            precompute_ref_log_probs=True,
            precompute_ref_batch_size=common["per_device_train_batch_size"],
        ),
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[callback],
    )


def open_cache(job: TrainingJob, base_dir: Path, dtype: Any, warn: Callable[[str], None]) -> Any:
    """The workspace's feature cache for this base model, K and dtype (None: turned off)."""
    if not job.cache_dir or job.cache_mb <= 0:
        return None
    from tether.training.feature_cache import FeatureCache, model_hash

    namespace = f"{model_hash(base_dir)[:16]}-k{job.hyper.lora_layers}-{str(dtype).split('.')[-1]}"
    return FeatureCache(Path(job.cache_dir), namespace, max_bytes=job.cache_mb * 2**20, warn=warn)


def trl_config_dict(trainer: Any) -> dict[str, Any]:
    """The TRL config object the run used, and its LoRA config, as lineage keeps them."""
    args = _jsonable(trainer.args.to_dict())
    peft = getattr(trainer.model, "peft_config", {}).get("default")
    lora = _jsonable(peft.to_dict()) if peft else {}
    return {"trainer": type(trainer).__name__, "args": args, "lora": lora}


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """The JSON-able part of a config dict (sets as sorted lists; objects left out)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, set | frozenset):
            value = sorted(value, key=str)
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            continue
        out[key] = value
    return out


def run_job(job: TrainingJob, emit: Emit) -> WorkerReport:
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from tether.training.evaluate import evaluate
    from tether.training.scoring import load_adapter_model

    hf_logging.set_verbosity_error()
    device = resolve_device(job.device)
    emit(ProgressEvent(event="progress", phase="loading", message=f"loading the model ({device})"))
    if job.base_model:
        base_dir = Path(job.base_model)
    else:
        from tether.embedded import ensure_plain_model

        base_dir = ensure_plain_model()
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    dtype = train_dtype(device)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=dtype)
    rows = fit_rows(read_jsonl(job.train_file), tokenizer, job.hyper.max_length)
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        emit(ProgressEvent(event="progress", phase="loading", message=message))

    clock: dict[str, float] = {}
    parameters = sum(p.numel() for p in model.parameters())
    callback = _progress_callback(emit, clock, (job.checkpoint_steps, job.checkpoint_dir))
    cache = None
    prefix = None
    built = time.perf_counter()  # DPO's trainer runs the frozen layers and the reference here
    if job.method == "dpo":
        cache = open_cache(job, base_dir, dtype, warn)
        emit(
            ProgressEvent(event="progress", phase="loading", message="reference and frozen layers")
        )
        trainer = _dpo_trainer(job, model, tokenizer, rows, device, callback, cache)
    else:
        trainer = _kto_trainer(job, model, tokenizer, rows, device, callback)
        if job.hyper.share_prefix:
            from tether.training.prefix import share_prefix

            base = trainer.model.get_base_model()
            prefix = share_prefix(base.base_model)
    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    trl_config = trl_config_dict(trainer)
    prepare_seconds = time.perf_counter() - built
    trainer.train()
    split = getattr(trainer, "tether_split", None)
    emit(ProgressEvent(event="progress", phase="saving", message="saving the candidate"))
    out = Path(job.output_dir)
    trainer.model.save_pretrained(out)
    cache_stats: dict[str, int] = {}
    if cache is not None:
        cache.evict()
        cache_stats = cache.stats.as_dict()
    if split is not None:
        cache_stats.update(
            ref_hits=trainer.ref_hits,
            ref_computed=trainer.ref_computed,
            frozen_positions=split.stats.frozen_positions,  # run, shared starts included
            frozen_shared=split.stats.frozen_shared,  # served by shared prompt starts
        )
    split_stats = split.stats.as_dict() if split is not None else {}
    del trainer, model
    gc.collect()

    emit(ProgressEvent(event="progress", phase="evaluating", message="evaluating"))
    am = load_adapter_model(
        out, base_model=base_dir, device=device, version="candidate", beta=job.hyper.beta
    )
    if job.active_adapter:
        am.model.load_adapter(job.active_adapter, adapter_name="active")
    report = evaluate(
        am,
        read_jsonl(job.heldout_pairs_file),
        read_jsonl(job.heldout_labels_file),
        candidate="candidate",
        active="active" if job.active_adapter else None,
        beta=job.hyper.beta,
        max_length=job.hyper.max_length,
        on_step=lambda name: emit(
            ProgressEvent(event="progress", phase="evaluating", message=f"evaluating {name}")
        ),
    )
    steps = int(clock.get("steps", 0))
    seconds = clock.get("end", 0.0) - clock.get("start", 0.0)
    if split is not None and split_stats.get("row_positions"):
        saved = 1 - split_stats["top_positions"] / split_stats["row_positions"]
    else:
        saved = prefix.saved() if prefix else None
    return WorkerReport(
        metrics=report,
        adapter_sha256=file_sha256(out / ADAPTER_FILE),
        steps=steps,
        train_seconds=round(seconds, 3),
        seconds_per_step=round(seconds / steps, 3) if steps else None,
        device=device,
        final_loss=clock.get("loss"),
        tokens=int(clock["tokens"]) if "tokens" in clock else None,
        parameters=parameters,
        trainable_parameters=trainable,
        prefix_saved=round(saved, 4) if saved is not None else None,
        lora_layers=job.hyper.lora_layers,
        cache=cache_stats,
        split=split_stats,
        trl_config=trl_config,
        warnings=warnings,
        prepare_seconds=round(prepare_seconds, 3),
    )


def train_dtype(device: str) -> Any:
    """bf16 weights on a GPU that supports it (half the memory, tensor cores); else fp32."""
    import torch

    if device == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def planned_steps(examples: int, batch_size: int, epochs: float, max_steps: int) -> int:
    if max_steps > 0:
        return max_steps
    return max(1, math.ceil(math.ceil(examples / batch_size) * epochs))
