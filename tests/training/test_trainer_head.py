"""The KTO trainer's LM head scores only completion tokens on the CPU (`head.CompletionHead`,
installed by `kto.TetherKTOTrainer`): the same log-probabilities and gradients as TRL's
every-position CPU path, for a fraction of the projections, and no TRL function replaced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tether.training.head import CompletionHead


def _run(model_dir: Path, compact: bool) -> tuple[Any, Any, Any, CompletionHead | None]:
    import torch
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    add_fused_lm_head(model, outputs=("log_probs", "entropy", "mean_logits", "is_top1"))
    head = CompletionHead(model).install() if compact else None
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, model.config.vocab_size, (2, 24), generator=gen)
    labels = ids.clone()
    labels[0, :15] = -100  # a prompt of 15 tokens, then the completion
    labels[1, :9] = -100
    out = model(input_ids=ids, labels=labels, fused_lm_head=True)
    out.log_probs.sum().backward()
    grad = model.get_output_embeddings().weight.grad.clone()
    return out, grad, model, head


def test_completion_only_head_matches_trls_cpu_head(tiny_model: Path) -> None:
    import torch

    full, full_grad, _, _ = _run(tiny_model, compact=False)
    out, grad, model, head = _run(tiny_model, compact=True)

    assert torch.count_nonzero(full.log_probs) == 9 + 15  # completion positions (shifted)
    torch.testing.assert_close(out.log_probs, full.log_probs, atol=1e-5, rtol=1e-5)
    mask = full.log_probs != 0
    assert torch.equal(out.label_mask, full.label_mask)
    torch.testing.assert_close(out.entropy[mask], full.entropy[mask], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out.mean_logits[mask], full.mean_logits[mask], atol=1e-4, rtol=1e-4)
    assert torch.equal(out.is_top1[mask], full.is_top1[mask])
    torch.testing.assert_close(out.loss, full.loss, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(grad, full_grad, atol=1e-5, rtol=1e-4)
    assert head is not None
    assert (head.stats.calls, head.stats.fallbacks) == (1, 0)
    assert head.stats.scored == 24 < head.stats.positions == 2 * 23  # the prompt is skipped

    # anything else (here generation's plain forward) goes to TRL's forward untouched
    ids = torch.tensor([[1, 2, 3]])
    logits = model(input_ids=ids).logits
    assert logits.shape == (1, 3, model.config.vocab_size)
    assert head.stats.fallbacks == 1


def test_the_kto_trainer_installs_the_head_without_touching_trl(
    tiny_model: Path, tmp_path: Path
) -> None:
    import torch
    import trl.trainer.utils as trl_utils
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import KTOConfig

    from tether.training.kto import kto_trainer_class

    before = {name: getattr(trl_utils, name) for name in dir(trl_utils)}
    tok = AutoTokenizer.from_pretrained(tiny_model)
    tok.pad_token = tok.pad_token or tok.eos_token
    rows = [
        {"prompt": "a b c", "completion": " d e", "label": True},
        {"prompt": "a b c", "completion": " f", "label": False},
    ]
    trainer = kto_trainer_class()(
        model=AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32),
        args=KTOConfig(
            output_dir=str(tmp_path / "trainer"),
            use_cpu=True,
            report_to="none",
            per_device_train_batch_size=2,
            max_steps=1,
            max_length=32,
            save_strategy="no",
        ),
        train_dataset=Dataset.from_list(rows),
        processing_class=tok,
        peft_config=LoraConfig(r=2, target_modules="all-linear", task_type="CAUSAL_LM"),
    )
    trainer.train()
    head = trainer.tether_head
    assert head is not None and head.stats.calls > 0 and head.stats.fallbacks == 0
    assert 0 < head.stats.scored < head.stats.positions
    assert {name: getattr(trl_utils, name) for name in dir(trl_utils)} == before
