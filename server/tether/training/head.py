"""The LM head on the scored (completion) positions only, for TRL's fused-head calls.

TRL's trainers call `model(..., labels=..., fused_lm_head=True)` and read a
`FusedCausalLMOutput` (the documented contract of `trl.trainer.utils.add_fused_lm_head`).
Where Triton is missing (this CPU), TRL's head projects every position through the
vocabulary (49,152 for SmolLM2) and masks the prompt's afterwards, so that compiled
backends see one shape per batch. Eager training has no such concern, and the head over
the prompt (most of every row) is waste in the policy's forward and backward and the
reference's forward. `CompletionHead(model).install()` wraps that forward, as TRL's own
head does (an instance attribute): it runs the backbone, projects only the positions that
have a label and returns the same output. Calls it cannot serve exactly (no labels,
`shift_labels`, logits TRL would scale or soft-cap, MoE router losses) go to TRL's forward
untouched. `scored_output` is also the end of `frozen.SplitForward`'s forward.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Config fields under which TRL's head transforms the logits (not served here).
_LOGIT_TRANSFORMS = (
    "final_logit_softcapping",
    "logit_scale",
    "output_multiplier",
    "lm_head_multiplier",
    "logits_scaling",
    "output_router_logits",
)


def plain_logits(model: Any) -> bool:
    """Whether the model's logits are its LM head's output, untransformed."""
    cfg = model.config.get_text_config()
    return not any(getattr(cfg, name, None) for name in _LOGIT_TRANSFORMS)


def scored_output(
    head: Any,
    src: Any,
    targets: Any,
    where: tuple[Any, Any],
    label_mask: Any,
    num_items_in_batch: Any = None,
) -> Any:
    """A `FusedCausalLMOutput` from the hidden states `src` of the scored positions only:
    `where` (rows, positions) places them in the (rows, width - 1) outputs, `targets` are
    their next tokens, `label_mask` marks them."""
    import torch
    from trl.trainer.utils import FusedCausalLMOutput

    rr, tt = where
    shape = label_mask.shape
    logits = head(src)
    logp = torch.log_softmax(logits.float(), dim=-1)
    chosen = logp.gather(1, targets.unsqueeze(1)).squeeze(1)
    log_probs = logp.new_zeros(shape).index_put((rr, tt), chosen)
    with torch.no_grad():
        probs = logp.exp()
        entropy = logp.new_zeros(shape).index_put((rr, tt), -(probs * logp).sum(-1))
        mean_logits = logp.new_zeros(shape).index_put((rr, tt), logits.float().mean(-1))
        sum_sq = logp.new_zeros(shape).index_put((rr, tt), torch.logsumexp(2 * logp, -1))
        top1 = torch.zeros(shape, dtype=torch.bool, device=logp.device).index_put(
            (rr, tt), logits.argmax(-1) == targets
        )
    count = label_mask.sum().clamp(min=1) if num_items_in_batch is None else num_items_in_batch
    return FusedCausalLMOutput(
        loss=-log_probs.sum() / count,
        log_probs=log_probs,
        entropy=entropy,
        log_sum_sq_probs=sum_sq,
        mean_logits=mean_logits,
        is_top1=top1,
        label_mask=label_mask,
    )


@dataclass
class HeadStats:
    calls: int = 0
    fallbacks: int = 0  # calls handed to TRL's forward
    scored: int = 0  # positions projected through the LM head
    positions: int = 0  # positions TRL's CPU head would have projected


class CompletionHead:
    """The wrapped fused forward of one causal LM (see the module docstring)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.stats = HeadStats()
        self._original: Any = None

    def install(self) -> CompletionHead:
        self._original = self.model.forward
        self.model.forward = self.forward
        return self

    def forward(
        self,
        *args: Any,
        fused_lm_head: bool = False,
        labels: Any = None,
        shift_labels: Any = None,
        num_items_in_batch: Any = None,
        **kwargs: Any,
    ) -> Any:
        self.stats.calls += 1
        if (
            args
            or not fused_lm_head
            or labels is None
            or shift_labels is not None
            or not plain_logits(self.model)
        ):
            self.stats.fallbacks += 1
            return self._original(
                *args,
                fused_lm_head=fused_lm_head,
                labels=labels,
                shift_labels=shift_labels,
                num_items_in_batch=num_items_in_batch,
                **kwargs,
            )
        kwargs["use_cache"] = False
        hidden = self.model.base_model(**kwargs).last_hidden_state[:, :-1]
        targets = labels[:, 1:]
        head = self.model.get_output_embeddings()
        hidden, targets = hidden.to(head.weight.device), targets.to(head.weight.device)
        mask = targets != -100
        rr, tt = mask.nonzero(as_tuple=True)
        self.stats.scored += int(rr.numel())
        self.stats.positions += int(mask.numel())
        return scored_output(
            head, hidden[rr, tt], targets[rr, tt], (rr, tt), mask, num_items_in_batch
        )
