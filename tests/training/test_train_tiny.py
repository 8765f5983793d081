"""Train now, the gate, lineage and rollback, end to end on a tiny real model.

Real worker processes, real TRL/peft training and a real store; the model is a 2-layer
Llama with SmolLM2's tokenizer so a run takes seconds, not minutes.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tether.cli.main import main as cli
from tether.core.types import Actor, Outcome, utcnow
from tether.decisions import DecisionContent, DecisionStore, HistoryFilter
from tether.paths import WorkspacePaths
from tether.training import TrainingManager
from tether.training.dataset import load_training_data
from tether.training.lineage import LINEAGE_FILE, file_sha256, read_lineage
from tether.training.models import ProgressEvent

from .conftest import fast_settings
from .helpers import record_corrections

pytestmark = pytest.mark.slow

PAIRS = 17  # three of these ids fall on the held-out side (hash rule)
STEPS = 3


async def run_cli(argv: list[str]) -> int:
    """The real `tether` entry point; in a thread because it runs its own event loop."""
    return await asyncio.to_thread(cli, argv)


async def _rows(store: DecisionStore, outcome: Outcome) -> list:  # type: ignore[type-arg]
    page = await store.history(HistoryFilter(outcome=[outcome]), limit=100)
    return page.items


async def test_train_promote_lineage_refuse_a_sabotaged_candidate_and_roll_back(
    ws_store: DecisionStore,
    ws_paths: WorkspacePaths,
    tiny_model: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await record_corrections(ws_store, PAIRS)
    settings = fast_settings()
    manager = TrainingManager(ws_store, ws_paths, settings, base_model=tiny_model)
    events: list[ProgressEvent] = []

    first = await manager.train_now(events.append, max_steps=STEPS)

    assert first.status == "promoted", first.reason
    assert first.version == "v1" and first.method == "dpo" and first.parent is None
    # each pair's prompt ran once for both answers (tether.training.prefix)
    assert first.prefix_saved is not None and first.prefix_saved > 0.2
    assert first.tokens and 0 < first.trainable_parameters < first.parameters
    assert first.metrics is not None and first.gate is not None
    assert first.metrics.base.preference_accuracy == 0.5  # reward vs itself: all ties
    assert first.metrics.candidate.preference_accuracy == 1.0
    assert first.metrics.candidate.pairs_margin is not None
    assert first.metrics.candidate.pairs_margin > 0
    steps = [e for e in events if e.event == "progress" and e.phase == "training" and e.step]
    assert steps and steps[-1].step == steps[-1].total == first.steps
    assert all(e.loss is not None for e in steps)
    assert manager.status().state == "idle" and manager.status().last_result == first

    # lineage.json next to the PEFT files, tied to the data and the log
    v1 = ws_paths.adapters / "v1"
    assert (v1 / "adapter_config.json").is_file()
    lineage = read_lineage(v1)
    data = await load_training_data(ws_store, settings.training)
    assert lineage.parent is None and lineage.status == "active"
    assert lineage.data_hash == data.data_hash == first.data_hash
    head_seq, _ = await ws_store.head()
    assert lineage.decision_range.head_seq < head_seq  # the promotion row came after
    at_training = (await ws_store.decisions(until_seq=lineage.decision_range.head_seq))[-1]
    assert lineage.head_hash == lineage.decision_range.head_hash == at_training.hash
    assert lineage.decision_range.first_seq == 3  # add, accept, correct: first correction
    # and a signed checkpoint of that head, which `tether verify` checks (issue 17)
    assert lineage.checkpoint is not None and lineage.checkpoint["reason"] == "training"
    assert lineage.checkpoint["seq"] == lineage.decision_range.head_seq
    assert lineage.checkpoint["head_hash"] == lineage.head_hash
    assert lineage.config.lora_r == settings.training.lora_r
    assert lineage.config.learning_rate == settings.training.learning_rate
    assert lineage.metrics == first.metrics and lineage.gate.promote
    assert lineage.adapter_sha256 == file_sha256(v1 / "adapter_model.safetensors")
    assert lineage.heldout_pairs == 3 and lineage.train_examples == PAIRS - 3
    assert json.loads((v1 / LINEAGE_FILE).read_text())["base_model"] == str(tiny_model)

    # the promotion is a chained row naming the version, metrics and the file's hash
    [promoted] = await _rows(ws_store, Outcome.ADAPTER_PROMOTED)
    assert promoted.actor == "system" and promoted.adapter_version == "v1"
    assert promoted.data["adapter_sha256"] == lineage.adapter_sha256
    assert promoted.data["metrics"]["preference_accuracy"] == 1.0
    active = await ws_store.active_adapter()
    assert active is not None and active.version == "v1"

    # Sabotage: the same data with every training pair flipped. The candidate learns the
    # opposite of the user, and the gate must keep v1.
    flipped = data.model_copy(
        update={
            "pairs_train": [
                p.model_copy(update={"chosen": p.rejected, "rejected": p.chosen})
                for p in data.pairs_train
            ]
        }
    )
    second = await manager.train_now(data=flipped, max_steps=STEPS)

    assert second.status == "refused", second.reason
    assert second.version == "v2" and second.parent == "v1"
    assert second.metrics is not None and second.metrics.active is not None
    assert second.metrics.active.preference_accuracy == 1.0  # v1, re-measured
    assert second.metrics.candidate.preference_accuracy == 0.0
    assert second.gate is not None and second.gate.reference_name == "active"
    [refused] = await _rows(ws_store, Outcome.ADAPTER_REFUSED)
    assert refused.data["version"] == "v2" and refused.data["parent"] == "v1"
    assert refused.data["adapter_sha256"] == file_sha256(
        ws_paths.adapters / "v2" / "adapter_model.safetensors"
    )
    active = await ws_store.active_adapter()
    assert active is not None and active.version == "v1"  # untouched
    statuses = {r.version: r.status for r in await ws_store.adapters()}
    assert statuses == {"v1": "active", "v2": "refused"}
    assert (await ws_store.verify()).ok

    # `tether adapters` lists both with their numbers; rollback switches and is logged
    ws = ["--workspace", str(ws_paths.workspace)]
    assert await run_cli(["adapters", "--json", *ws]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(a["version"], a["status"], a["parent"]) for a in listed] == [
        ("v1", "active", None),
        ("v2", "refused", "v1"),
    ]
    assert listed[0]["metrics"]["preference_accuracy"] == 1.0
    assert listed[1]["metrics"]["candidate"] == 0.0

    assert (
        await run_cli(["adapters", "rollback", "v2", *ws]) == 1
    )  # refused by the gate: not offered
    assert "refused by the eval gate" in capsys.readouterr().err
    assert await run_cli(["adapters", "rollback", "v1", *ws]) == 1
    assert "already the active adapter" in capsys.readouterr().err
    assert await run_cli(["adapters", "rollback", "v9", *ws]) == 1
    assert "no adapter v9" in capsys.readouterr().err

    assert await run_cli(["adapters", "rollback", "base", "--reason", "try without", *ws]) == 0
    assert await ws_store.active_adapter() is None
    assert await run_cli(["adapters", "rollback", "v1", *ws]) == 0
    capsys.readouterr()
    active = await ws_store.active_adapter()
    assert active is not None and active.version == "v1"
    rollbacks = await _rows(ws_store, Outcome.ADAPTER_ROLLBACK)
    assert [(r.data["from"], r.data["to"], r.actor) for r in reversed(rollbacks)] == [
        ("v1", None, "user"),
        (None, "v1", "user"),
    ]
    assert rollbacks[-1].reason == "try without"

    # weights changed on disk after the fact are not activated
    await ws_store.activate_adapter(None, _note("test: back to base"))
    weights = v1 / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8] + b"\0" * 8)
    assert await run_cli(["adapters", "rollback", "v1", *ws]) == 1
    assert "does not match its recorded hash" in capsys.readouterr().err
    assert await run_cli(["adapters", *ws]) == 0
    table = capsys.readouterr().out
    assert "v1" in table and "refused" in table
    assert (await ws_store.verify()).ok


def _note(reason: str) -> DecisionContent:
    return DecisionContent(
        ts=utcnow(), outcome=Outcome.ADAPTER_ROLLBACK, actor=Actor.SYSTEM, reason=reason
    )
