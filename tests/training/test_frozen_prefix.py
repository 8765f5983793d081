"""Shared prompt starts (`tether.training.frozen_prefix`): the frozen layers run a start
many pairs share once, and every pair's output is the same as when it runs whole."""

from __future__ import annotations

from typing import Any

from tether.training.frozen import SplitForward
from tether.training.frozen_prefix import PrefixBank

LAYERS, TOP = 4, 1


def _model() -> Any:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=96,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=LAYERS,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        attn_implementation="sdpa",
    )
    model = LlamaForCausalLM(config)
    add_fused_lm_head(model, outputs=("log_probs", "entropy", "mean_logits", "is_top1"))
    lora = LoraConfig(
        r=4,
        target_modules=["q_proj", "v_proj", "down_proj"],
        layers_to_transform=list(range(LAYERS - TOP, LAYERS)),
        init_lora_weights=False,
    )
    return get_peft_model(model, lora)


def _prompts() -> list[list[int]]:
    """Four prompts: all share 40 tokens (the instructions), two of them 60 (a task's
    example), one shares nothing beyond that; lengths differ."""
    import torch

    gen = torch.Generator().manual_seed(3)

    def tokens(n: int) -> list[int]:
        return torch.randint(3, 96, (n,), generator=gen).tolist()

    common, task = tokens(40), tokens(20)
    return [
        common + task + tokens(9),
        common + task + tokens(14),
        common + tokens(11),
        tokens(30),
    ]


def _batch(prompts: list[list[int]]) -> tuple[Any, Any, Any]:
    import torch

    chosen = [[5, 6, 7, 8], [9, 10], [11, 12, 13], [14, 15]]
    rejected = [[5, 6, 40, 41], [50, 51, 52], [60], [70, 71]]
    rows = [p + c for p, c in zip(prompts, chosen, strict=True)]
    rows += [p + r for p, r in zip(prompts, rejected, strict=True)]
    starts = [len(p) for p in prompts] * 2
    width = max(len(r) for r in rows)
    ids = torch.zeros(len(rows), width, dtype=torch.long)
    mask = torch.zeros_like(ids)
    labels = torch.full_like(ids, -100)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
        labels[i, starts[i] : len(row)] = ids[i, starts[i] : len(row)]
    return ids, mask, labels


def _passes(prefixes: PrefixBank | None) -> tuple[Any, Any, Any, SplitForward]:
    """The reference pass (adapter off) and a policy pass with its LoRA gradients."""
    import torch

    model = _model()
    split = SplitForward(model.get_base_model(), TOP).install()
    split.prefixes = prefixes
    ids, mask, labels = _batch(_prompts())
    kw = dict(input_ids=ids, attention_mask=mask, labels=labels, fused_lm_head=True)
    with torch.no_grad(), model.disable_adapter():
        ref = model(**kw).log_probs
    policy = model(**kw).log_probs
    policy.sum().backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.requires_grad}
    return ref, policy.detach(), grads, split


def test_shared_starts_give_the_same_log_probs_and_gradients_for_fewer_positions() -> None:
    import torch

    ref_a, pol_a, grads_a, whole = _passes(None)
    bank = PrefixBank.of(_prompts())
    ref_b, pol_b, grads_b, shared = _passes(bank)

    torch.testing.assert_close(ref_b, ref_a, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(pol_b, pol_a, atol=1e-5, rtol=1e-5)
    for name, grad in grads_a.items():
        torch.testing.assert_close(grads_b[name], grad, atol=1e-6, rtol=1e-4)
    # the 40-token start ran once, the 60-token one as its 20-token extension; three pairs
    # read them instead of running those positions; the fourth pair ran whole
    assert bank.positions == 40 + 20
    assert shared.stats.frozen_shared == 60 + 60 + 40
    assert shared.stats.frozen_positions == whole.stats.frozen_positions - 160 + 60
    assert shared.stats.frozen_computed == whole.stats.frozen_computed == 4


def test_the_bank_finds_branch_points_and_matches_the_longest_start_that_fits() -> None:
    prompts = _prompts()
    bank = PrefixBank.of(prompts)
    assert sorted(len(s) for s in bank.starts) == [40, 60]
    assert bank.match(prompts[0], limit=100) == tuple(prompts[0][:60])
    assert bank.match(prompts[0], limit=59) == tuple(prompts[0][:40])  # must end in the pair
    assert bank.match(prompts[2], limit=100) == tuple(prompts[2][:40])
    assert bank.match(prompts[3], limit=100) is None
    assert PrefixBank.of(prompts[:1]).starts == []  # one prompt shares nothing
