"""Run the prompt a batch's rows share once, not once per row.

A DPO step feeds the model each pair twice, `prompt + chosen` and `prompt + rejected`, and
the prompt (the agent's instructions, the code around the selection, the selection) is
most of every row: about 410 of the 470 tokens of a typical Tether pair. Attention is
causal, so the hidden states of a shared prefix are the same in every row that starts
with it; computing them once and letting each row's own tokens attend to that one copy
(a key/value cache, as generation does) gives the same numbers for roughly half the work
in the policy's forward and backward and in the reference's forward.

`share_prefix(backbone)` wraps the decoder's `forward` (e.g. `LlamaModel.forward`, which
TRL's fused LM head calls). A batch qualifies when it has at least two rows, no inputs
as embeddings, no cache of its own and padding only on the right (TRL flushes rows
left); anything else runs the original forward untouched. Right padding needs no mask:
causal attention never lets a real token see the pads after it, and the pads' outputs
are never scored. Gradients flow through the shared copy into every row that used it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Below this many shared tokens the second pass costs more than it saves.
MIN_SHARED = 16


@dataclass
class PrefixStats:
    """Tokens the wrapped forwards computed, and what they would have without sharing."""

    calls: int = 0
    shared_calls: int = 0
    tokens: int = 0  # positions actually run through the model
    tokens_unshared: int = 0  # rows x width: what the plain forward runs

    def saved(self) -> float:
        return 1 - self.tokens / self.tokens_unshared if self.tokens_unshared else 0.0


def shared_prefix_length(input_ids: Any, attention_mask: Any | None) -> int:
    """Length of the prefix every row has in common, leaving each row a token of its own."""
    rows, width = input_ids.shape
    if rows < 2:
        return 0
    same = (input_ids == input_ids[:1]).all(dim=0)
    if attention_mask is not None:
        same &= attention_mask.bool().all(dim=0)
    differs = (~same).nonzero()
    prefix = int(differs[0, 0]) if len(differs) else width
    shortest = int(attention_mask.sum(dim=1).min()) if attention_mask is not None else width
    return max(0, min(prefix, shortest - 1))


def _right_padded_only(attention_mask: Any | None) -> bool:
    if attention_mask is None:
        return True
    mask = attention_mask.bool()
    # a row is right-padded when its mask never goes from 0 back to 1
    return bool((mask[:, 1:] <= mask[:, :-1]).all())


def share_prefix(backbone: Any, stats: PrefixStats | None = None) -> PrefixStats:
    """Wrap `backbone.forward` (a Hugging Face decoder) to compute a shared prefix once."""
    if getattr(backbone.forward, "tether_shared_prefix", None) is not None:
        return backbone.forward.tether_shared_prefix
    stats = stats or PrefixStats()
    original = backbone.forward

    def forward(
        input_ids: Any = None,
        attention_mask: Any = None,
        position_ids: Any = None,
        past_key_values: Any = None,
        inputs_embeds: Any = None,
        use_cache: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        plain = dict(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            **kwargs,
        )
        stats.calls += 1
        eligible = (
            input_ids is not None
            and inputs_embeds is None
            and past_key_values is None
            and position_ids is None
            and input_ids.dim() == 2
            and input_ids.shape[0] > 1
            and not (backbone.training and getattr(backbone, "gradient_checkpointing", False))
            and _right_padded_only(attention_mask)
        )
        rows, width = input_ids.shape if input_ids is not None else (0, 0)
        stats.tokens_unshared += rows * width
        shared = shared_prefix_length(input_ids, attention_mask) if eligible else 0
        if shared < MIN_SHARED:
            stats.tokens += rows * width
            return original(**plain)
        return _shared_forward(original, input_ids, shared, stats, kwargs)

    forward.tether_shared_prefix = stats  # type: ignore[attr-defined]
    backbone.forward = forward
    return stats


def _shared_forward(
    original: Any, input_ids: Any, shared: int, stats: PrefixStats, kwargs: dict[str, Any]
) -> Any:
    import torch
    from transformers.modeling_outputs import BaseModelOutputWithPast

    rows, width = input_ids.shape
    head = original(input_ids=input_ids[:1, :shared], use_cache=True, **kwargs)
    cache = head.past_key_values
    cache.batch_repeat_interleave(rows)
    positions = torch.arange(shared, width, device=input_ids.device).unsqueeze(0)
    tail = original(
        input_ids=input_ids[:, shared:],
        past_key_values=cache,
        position_ids=positions.expand(rows, -1),
        use_cache=True,
        **kwargs,
    )
    stats.shared_calls += 1
    stats.tokens += shared + rows * (width - shared)
    hidden = torch.cat([head.last_hidden_state.expand(rows, -1, -1), tail.last_hidden_state], dim=1)
    return BaseModelOutputWithPast(last_hidden_state=hidden)
