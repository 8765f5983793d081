"""Retraining does less work: cached features give the same adapter as computing them, a
broken cache entry is recomputed, "Train now" with nothing new does not train, and a
retrain after new decisions continues the active adapter on what is new. Real worker
processes and TRL on a tiny real Llama (2 layers, LoRA on the top one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tether.decisions import DecisionStore
from tether.paths import WorkspacePaths
from tether.training import TrainingManager
from tether.training.dataset import load_training_data
from tether.training.lineage import read_lineage

from .conftest import fast_settings
from .helpers import record_corrections

pytestmark = pytest.mark.slow

STEPS = 3


def _entries(paths: WorkspacePaths, kind: str) -> list[Path]:
    return sorted((paths.root / "cache" / "training").rglob(f"*.{kind}.safetensors"))


async def test_cached_run_equals_uncached_and_broken_entries_are_recomputed(
    ws_store: DecisionStore, ws_paths: WorkspacePaths, tiny_model: Path
) -> None:
    await record_corrections(ws_store, 17)
    settings = fast_settings(lora_layers=1)
    manager = TrainingManager(ws_store, ws_paths, settings, base_model=tiny_model)

    cold = await manager.train_now(max_steps=STEPS)
    assert cold.status == "promoted", cold.reason
    assert cold.lora_layers == 1 and cold.trainable_parameters > 0
    pairs = cold.train_examples
    assert cold.cache["ref_computed"] == pairs and cold.cache["ref_hits"] == 0
    assert cold.cache["writes"] == 2 * pairs  # a frozen output and reference log-probs each
    assert len(_entries(ws_paths, "frozen")) == len(_entries(ws_paths, "ref")) == pairs
    lineage = read_lineage(ws_paths.adapters / "v1")
    assert lineage.lora_layers == 1 and lineage.cache["ref_computed"] == pairs
    assert lineage.trl_config["trainer"] == "TetherDPOTrainer"
    assert lineage.trl_config["args"]["learning_rate"] == settings.training.learning_rate
    assert lineage.trl_config["args"]["precompute_ref_log_probs"] is True
    assert lineage.trl_config["lora"]["layers_to_transform"] == [1]

    # nothing new since v1: no run, no new adapter
    again = await manager.train_now(max_steps=STEPS)
    assert again.status == "skipped" and again.reason == "nothing new to learn from since v1"
    assert [a.version for a in await ws_store.adapters()] == ["v1"]

    # --force: from the base on everything, every feature from the cache, the same weights
    warm = await manager.train_now(max_steps=STEPS, force=True)
    assert warm.status == "promoted" and warm.warm_start is None, warm.reason
    assert warm.cache["ref_hits"] == pairs and warm.cache["ref_computed"] == 0
    trained = STEPS * settings.training.batch_size  # pairs the capped loop reached
    assert warm.cache["hits"] == pairs + trained and warm.cache["writes"] == 0
    assert warm.adapter_sha256 == cold.adapter_sha256

    # a truncated frozen output and a garbled reference entry: recomputed, never used
    frozen, ref = _entries(ws_paths, "frozen")[0], _entries(ws_paths, "ref")[0]
    frozen.write_bytes(frozen.read_bytes()[:100])
    data = bytearray(ref.read_bytes())
    data[-1] ^= 0xFF
    ref.write_bytes(bytes(data))
    healed = await manager.train_now(max_steps=STEPS, force=True)
    assert healed.status == "promoted", healed.reason
    assert healed.cache["corrupt"] == 2 and healed.cache["ref_computed"] >= 1
    assert healed.adapter_sha256 == cold.adapter_sha256


async def test_retrain_continues_the_active_adapter_on_what_is_new(
    ws_store: DecisionStore, ws_paths: WorkspacePaths, tiny_model: Path
) -> None:
    await record_corrections(ws_store, 17)
    settings = fast_settings(lora_layers=1)
    manager = TrainingManager(ws_store, ws_paths, settings, base_model=tiny_model)
    first = await manager.train_now(max_steps=STEPS)
    assert first.status == "promoted", first.reason
    head = read_lineage(ws_paths.adapters / "v1").decision_range.head_seq

    await record_corrections(ws_store, 7, start=17)  # seven new functions corrected
    data = await load_training_data(ws_store, settings.training)
    new = [p for p in data.pairs_train if p.seq > head]
    assert 0 < len(new) < 7 + 1

    second = await manager.train_now()
    assert second.warm_start == "v1" and second.parent == "v1", second.reason
    assert second.status in ("promoted", "refused")  # the gate still judges it
    assert second.train_examples == 2 * len(new)  # the new pairs and as many replayed
    assert second.cache["ref_computed"] == len(new)  # the replayed ones come from the cache
    lineage = read_lineage(ws_paths.adapters / "v2")
    assert lineage.warm_start == "v1" and lineage.train_examples == 2 * len(new)
