"""Incremental retraining: continue the active adapter on what is new, not start over.

A retrain after N new decisions would otherwise pass every pair through the top layers
again, though the active adapter has already learned from all but N of them. When the
active adapter was trained the same way (DPO, the same base model, K and LoRA shape), the
candidate starts from its weights and trains one epoch on the new pairs plus a replay of
as many older ones (`training.replay_ratio`, chosen by a hash of the seed and the proposal
id, so a rerun picks the same ones); the replay keeps it from drifting off what it learned.
The reference stays the base model, so the gate and the reranker measure rewards exactly
as before, and the gate still judges the candidate against the active adapter on the
held-out decisions. Lineage names the adapter it continued from (`warm_start`), so an
adapter is the chain of its lineages. `tether train --force` trains from the base on
everything.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from pydantic import BaseModel

from tether.config import TrainingSettings
from tether.training.dataset import PairRow, TrainingData


class IncrementalPlan(BaseModel):
    rows: list[dict[str, Any]]
    new: int
    replayed: int
    parent: str  # the adapter version it continues


def why_not_incremental(
    lineage: dict[str, Any], settings: TrainingSettings, method: str, base_model: str
) -> str | None:
    """None when the active adapter can be continued, else the reason (for the log)."""
    config = lineage.get("config") or {}
    if method != "dpo" or lineage.get("method") != "dpo":
        return "only DPO runs continue an adapter"
    if lineage.get("base_model") != base_model:
        return "the base model changed"
    if lineage.get("lora_layers") != settings.lora_layers or settings.lora_layers == 0:
        return "the adapter's layers differ"
    if (config.get("lora_r"), config.get("lora_alpha")) != (settings.lora_r, settings.lora_alpha):
        return "the LoRA shape changed"
    return None


def plan(
    data: TrainingData, settings: TrainingSettings, lineage: dict[str, Any], version: str
) -> IncrementalPlan | None:
    """The new pairs since the adapter's data plus a replay of older ones; None when there
    is nothing old to continue from or nothing new (then a full run is the right one)."""
    head = int((lineage.get("decision_range") or {}).get("head_seq") or 0)
    new = [p for p in data.pairs_train if p.seq > head]
    old = [p for p in data.pairs_train if p.seq <= head]
    if not new or not old:
        return None

    def order(p: PairRow) -> str:
        return hashlib.sha256(f"{settings.seed}:{p.proposal_id}".encode()).hexdigest()

    take = min(len(old), math.ceil(len(new) * settings.replay_ratio))
    replay = sorted(old, key=order)[:take]
    chosen = sorted([*new, *replay], key=lambda p: p.seq)
    return IncrementalPlan(
        rows=[p.trl() for p in chosen], new=len(new), replayed=len(replay), parent=version
    )
