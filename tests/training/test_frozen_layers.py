"""Shared frozen layers (`tether.training.frozen`): the packed, split forward gives the log-
probabilities and LoRA gradients of TRL's plain fused forward, on a tiny real Llama, and
runs the frozen layers once per pair."""

from __future__ import annotations

from typing import Any

import pytest

from tether.training.frozen import SplitForward

LAYERS, TOP = 4, 2
MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def _model(seed: int = 0) -> Any:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    torch.manual_seed(seed)
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
        lora_alpha=8,
        target_modules=MODULES,
        layers_to_transform=list(range(LAYERS - TOP, LAYERS)),
        init_lora_weights=False,  # non-zero, so the adapter changes the outputs
    )
    return get_peft_model(model, lora)


def _batch() -> tuple[Any, Any, Any]:
    """Two pairs as TRL's collator lays them out: chosen rows, then rejected rows, padded
    on the right; labels only on the completions."""
    import torch

    gen = torch.Generator().manual_seed(1)
    prompts = [torch.randint(3, 96, (n,), generator=gen).tolist() for n in (11, 7)]
    chosen = [[5, 6, 7, 8], [9, 10]]
    rejected = [[5, 6, 40, 41, 42], [50, 51, 52]]  # the first shares two answer tokens
    rows = [p + c for p, c in zip(prompts, chosen, strict=True)]
    rows += [p + r for p, r in zip(prompts, rejected, strict=True)]
    prompt_len = [len(p) for p in prompts] * 2
    width = max(len(r) for r in rows)
    ids = torch.zeros(len(rows), width, dtype=torch.long)
    mask = torch.zeros_like(ids)
    labels = torch.full_like(ids, -100)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
        labels[i, prompt_len[i] : len(row)] = ids[i, prompt_len[i] : len(row)]
    return ids, mask, labels


def _dpo_like(model: Any, split: SplitForward | None) -> tuple[Any, Any, dict[str, Any]]:
    import torch

    ids, mask, labels = _batch()
    kw = dict(input_ids=ids, attention_mask=mask, labels=labels, fused_lm_head=True)
    with torch.no_grad(), model.disable_adapter():
        ref = model(**kw, use_cache=False).log_probs.sum(1)
    out = model(**kw, use_cache=False)
    logps = out.log_probs.sum(1)
    ratios = logps - ref
    loss = -torch.nn.functional.logsigmoid(0.1 * (ratios[:2] - ratios[2:])).mean()
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    return out, loss.detach(), grads


def test_split_forward_matches_the_plain_forward_in_loss_and_gradients() -> None:
    import torch

    plain_model = _model()
    plain, plain_loss, plain_grads = _dpo_like(plain_model, None)

    model = _model()
    split = SplitForward(model.get_base_model(), TOP).install()
    out, loss, grads = _dpo_like(model, split)

    torch.testing.assert_close(out.log_probs, plain.log_probs, atol=1e-5, rtol=1e-5)
    mask = plain.log_probs != 0
    torch.testing.assert_close(out.entropy[mask], plain.entropy[mask], atol=1e-5, rtol=1e-5)
    assert torch.equal(out.is_top1[mask], plain.is_top1[mask])
    torch.testing.assert_close(loss, plain_loss, atol=1e-6, rtol=1e-5)
    assert grads.keys() == plain_grads.keys() and len(grads) == TOP * len(MODULES) * 2
    for name, grad in grads.items():
        assert grad.abs().sum() > 0, name
        torch.testing.assert_close(grad, plain_grads[name], atol=1e-6, rtol=1e-4)

    # the frozen layers ran once per pair: the reference's pass computed them, the
    # policy's reused them; every pass went through the split path
    s = split.stats
    assert (s.frozen_computed, s.frozen_reused, s.fallbacks) == (2, 2, 0)
    assert s.scored == int(mask.sum()) * 2
    # each pair's prompt ran once: fewer positions than rows x width
    assert s.top_positions < s.row_positions


def test_lower_layers_with_an_adapter_are_refused() -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=64,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=LAYERS,
        num_attention_heads=2,
        num_key_value_heads=1,
    )
    model = get_peft_model(LlamaForCausalLM(config), LoraConfig(r=2, target_modules=MODULES))
    with pytest.raises(ValueError, match="top layers only"):
        SplitForward(model.get_base_model(), TOP).install()


def test_without_a_disk_cache_every_pair_is_kept_for_the_run() -> None:
    """No cache (turned off, or the disk refused it): the frozen output of every pair seen
    stays in memory, so later passes over the same pairs still skip the frozen layers."""
    import torch

    from tether.training.frozen import MEMO_PAIRS

    model = _model()
    split = SplitForward(model.get_base_model(), TOP).install()
    ids, mask, labels = _batch()
    batches = []
    for shift in range(MEMO_PAIRS + 2):  # more pairs than the memory next to a disk cache
        batches.append((ids[[0, 2]] + 0, mask[[0, 2]], labels[[0, 2]]))
        batches[-1][0][:, 0] = 3 + shift  # a different first token: a different pair
    with torch.no_grad():
        for _ in range(2):  # an epoch, then the same pairs again
            for b_ids, b_mask, b_labels in batches:
                model(input_ids=b_ids, attention_mask=b_mask, labels=b_labels, fused_lm_head=True)
    assert split.stats.frozen_computed == len(batches)
    assert split.stats.frozen_reused == len(batches)
