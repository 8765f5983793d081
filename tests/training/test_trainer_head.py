"""The worker makes TRL's fused LM head score only completion tokens on the CPU: the same
log-probabilities and gradients as TRL's every-position path, for a fraction of the work."""

from __future__ import annotations

from pathlib import Path

import pytest

from tether.training.trainer import score_completions_only


def _run(model_dir: Path) -> tuple[object, object, object]:
    import torch
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    add_fused_lm_head(model, outputs=("log_probs", "entropy", "mean_logits", "is_top1"))
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, model.config.vocab_size, (2, 24), generator=gen)
    labels = ids.clone()
    labels[0, :15] = -100  # a prompt of 15 tokens, then the completion
    labels[1, :9] = -100
    out = model(input_ids=ids, labels=labels, fused_lm_head=True)
    out.log_probs.sum().backward()
    grad = model.get_output_embeddings().weight.grad.clone()
    return out.log_probs.detach(), out.entropy.detach(), grad


def test_completion_only_head_matches_the_full_head(
    tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch
    import trl.trainer.utils as trl_utils

    monkeypatch.setattr(trl_utils, "_use_triton", lambda device: False)  # TRL's CPU path
    full_lp, full_ent, full_grad = _run(tiny_model)
    assert not trl_utils._use_triton(torch.device("cpu"))

    assert score_completions_only()
    assert trl_utils._use_triton(torch.device("cpu"))  # the worker's CPU path is compact now
    lp, ent, grad = _run(tiny_model)

    assert torch.count_nonzero(full_lp) == 9 + 15  # completion positions only (shifted)
    torch.testing.assert_close(lp, full_lp, atol=1e-5, rtol=1e-5)
    mask = full_lp != 0
    torch.testing.assert_close(ent[mask], full_ent[mask], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(grad, full_grad, atol=1e-5, rtol=1e-4)
    assert score_completions_only()  # idempotent: a second call does not wrap twice
