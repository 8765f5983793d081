"""The shared-prefix forward gives the numbers of the plain forward, gradients included,
through TRL's fused head as the DPO step calls it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tether.training.prefix import MIN_SHARED, share_prefix, shared_prefix_length


def _model(model_dir: Path, *, lora: bool) -> Any:
    import torch
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    add_fused_lm_head(model, outputs=("log_probs", "entropy"))
    if lora:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(
            model,
            LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False),
        )
    return model


def _batch(prompt: int, completions: list[int], vocab: int) -> tuple[Any, Any, Any]:
    """Rows of one prompt + each completion, right-padded, prompt masked out of the labels."""
    import torch

    gen = torch.Generator().manual_seed(1)
    head = torch.randint(0, vocab, (prompt,), generator=gen)
    width = prompt + max(completions)
    ids = torch.zeros((len(completions), width), dtype=torch.long)
    mask = torch.zeros_like(ids)
    labels = torch.full_like(ids, -100)
    for row, n in enumerate(completions):
        tail = torch.randint(0, vocab, (n,), generator=gen)
        ids[row, : prompt + n] = torch.cat([head, tail])
        mask[row, : prompt + n] = 1
        labels[row, prompt : prompt + n] = tail
    return ids, mask, labels


def _run(model: Any, ids: Any, mask: Any, labels: Any) -> tuple[Any, list[Any]]:
    out = model(input_ids=ids, attention_mask=mask, labels=labels, fused_lm_head=True)
    out.log_probs.sum().backward()
    grads = [p.grad.clone() for p in model.parameters() if p.requires_grad and p.grad is not None]
    model.zero_grad()
    return out.log_probs.detach(), grads


@pytest.mark.parametrize("completions", [[7, 12], [5, 9, 3, 9]])
def test_shared_prefix_gives_the_plain_forwards_numbers(
    tiny_model: Path, completions: list[int]
) -> None:
    import torch

    plain = _model(tiny_model, lora=True)
    shared = _model(tiny_model, lora=True)
    shared.load_state_dict(plain.state_dict())
    stats = share_prefix(shared.get_base_model().model)
    ids, mask, labels = _batch(40, completions, plain.config.vocab_size)

    lp_plain, g_plain = _run(plain, ids, mask, labels)
    lp_shared, g_shared = _run(shared, ids, mask, labels)

    assert stats.shared_calls == 1  # the prompt really was run once
    assert stats.tokens == 40 + len(completions) * (ids.shape[1] - 40)
    torch.testing.assert_close(lp_shared, lp_plain, atol=2e-5, rtol=1e-4)
    assert len(g_shared) == len(g_plain) > 0  # the LoRA weights got gradients
    for a, b in zip(g_shared, g_plain, strict=True):
        torch.testing.assert_close(a, b, atol=2e-5, rtol=1e-3)

    with torch.no_grad(), shared.disable_adapter(), plain.disable_adapter():  # the reference
        ref_shared = shared(input_ids=ids, attention_mask=mask, labels=labels, fused_lm_head=True)
        ref_plain = plain(input_ids=ids, attention_mask=mask, labels=labels, fused_lm_head=True)
    torch.testing.assert_close(ref_shared.log_probs, ref_plain.log_probs, atol=2e-5, rtol=1e-4)


def test_batches_that_do_not_qualify_run_the_plain_forward(tiny_model: Path) -> None:
    import torch

    model = _model(tiny_model, lora=False)
    stats = share_prefix(model.model)
    assert share_prefix(model.model) is stats  # wrapping twice is a no-op
    ids, mask, labels = _batch(MIN_SHARED - 1, [4, 6], model.config.vocab_size)
    model(input_ids=ids, attention_mask=mask, labels=labels, fused_lm_head=True)
    left = mask.flip(1)  # left padding: not what TRL sends; never shared
    model(input_ids=ids.flip(1), attention_mask=left, labels=labels.flip(1), fused_lm_head=True)
    model(input_ids=ids[:1], attention_mask=mask[:1], labels=labels[:1], fused_lm_head=True)
    assert stats.calls == 3 and stats.shared_calls == 0

    assert shared_prefix_length(torch.tensor([[1, 2, 3], [1, 2, 3]]), None) == 2
    assert shared_prefix_length(torch.tensor([[1, 2, 3], [1, 5, 3]]), None) == 1
    with_pad = torch.tensor([[1, 2, 3, 0], [1, 2, 3, 4]])
    assert shared_prefix_length(with_pad, torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]])) == 2
