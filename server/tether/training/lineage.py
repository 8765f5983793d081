"""`adapters/vN/lineage.json`: where an adapter came from, enough to audit or reproduce it.

It names the parent (the adapter active when it was trained), the exact data (hash and
decision range), the log head it was built at (so `tether verify` output can be matched
to it), the configuration, the gate's numbers and the hash of the weights file.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from tether.training.models import (
    DecisionRange,
    EvalReport,
    GateDecision,
    Hyperparameters,
    Method,
)

LINEAGE_FILE = "lineage.json"
ADAPTER_FILE = "adapter_model.safetensors"
_PACKAGES = ("tether", "torch", "transformers", "trl", "peft")


class Lineage(BaseModel):
    version: str
    parent: str | None
    created_at: str
    status: str  # active | refused (at creation)
    method: Method
    base_model: str
    data_hash: str
    decision_range: DecisionRange
    head_hash: str  # the decision log's head hash when the data was read
    # a signed checkpoint of that head (tether.decisions.checkpoints), for `tether verify`
    checkpoint: dict[str, Any] | None = None
    config: Hyperparameters  # from the settings, whole (Hyperparameters.of)
    # the TRL config object the worker trained with, and its LoRA config, whole
    trl_config: dict[str, Any] = Field(default_factory=dict)
    lora_layers: int = 0  # K: decoder layers with LoRA; 0: all (or KTO)
    cache: dict[str, int] = Field(default_factory=dict)  # training cache hits, misses, …
    warm_start: str | None = None  # the adapter it continued (incremental retrain), if any
    metrics: EvalReport
    gate: GateDecision
    adapter_file: str
    adapter_sha256: str
    train_examples: int
    heldout_pairs: int
    heldout_labels: int
    redactions: int
    # tool-labelled pairs among train_examples (verified vs refused model answers)
    verifier_pairs: int = 0
    duplicates_removed: int
    steps: int
    train_seconds: float
    prepare_seconds: float | None = None  # frozen layers + reference log-probs, before the loop
    seconds_per_step: float | None
    device: str
    job_id: str
    software: dict[str, str] = Field(default_factory=dict)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


def software_versions() -> dict[str, str]:
    out: dict[str, str] = {}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def write_lineage(directory: Path, lineage: Lineage) -> Path:
    path = directory / LINEAGE_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(
        json.dumps(lineage.model_dump(mode="json"), indent=2, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    tmp.replace(path)
    return path


def read_lineage(directory: Path) -> Lineage:
    return Lineage.model_validate_json((directory / LINEAGE_FILE).read_text(encoding="utf-8"))


def summary(lineage: Lineage) -> dict[str, Any]:
    """The short form kept in the store's adapter row and the chained decision."""
    cand = lineage.metrics.candidate
    return {
        "method": lineage.method,
        "metric": lineage.gate.metric,
        "candidate": lineage.gate.candidate,
        "reference": lineage.gate.reference,
        "reference_name": lineage.gate.reference_name,
        "preference_accuracy": cand.preference_accuracy,
        "auc": cand.auc,
        "pairs_margin": cand.pairs_margin,
        "labels_margin": cand.labels_margin,
        "heldout_pairs": lineage.heldout_pairs,
        "heldout_labels": lineage.heldout_labels,
        "train_examples": lineage.train_examples,
    }
