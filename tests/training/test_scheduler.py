"""The maturity scheduler: when it trains, when it waits, and that it never runs twice."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tether.decisions import DecisionStore
from tether.paths import WorkspacePaths
from tether.training import Scheduler, TrainingManager
from tether.training.models import ProgressEvent, TrainingResult

from .conftest import fast_settings
from .helpers import record_corrections, record_labels


def _scheduler(ws_store: DecisionStore, ws_paths: WorkspacePaths, **training: object) -> Scheduler:
    settings = fast_settings(**training)
    return Scheduler(TrainingManager(ws_store, ws_paths, settings), settings)


@pytest.mark.parametrize(
    ("mature", "labels", "quiet", "running", "train", "why"),
    [
        (True, 20, 60.0, False, True, "mature and 20 new labels"),
        (False, 500, 60.0, False, False, "not mature"),
        (True, 19, 60.0, False, False, "19 new labels since the last training; 20 needed"),
        (True, 20, 3.0, False, False, "typing"),
        (True, 20, 60.0, True, False, "already running"),
    ],
)
def test_should_train_conditions(
    ws_store: DecisionStore,
    ws_paths: WorkspacePaths,
    mature: bool,
    labels: int,
    quiet: float,
    running: bool,
    train: bool,
    why: str,
) -> None:
    sched = _scheduler(ws_store, ws_paths, min_new_labels=20, typing_quiet_seconds=10)
    ok, reason = sched.should_train(mature, labels, quiet, running)
    assert ok is train and why in reason


def test_automatic_training_can_be_switched_off(
    ws_store: DecisionStore, ws_paths: WorkspacePaths
) -> None:
    sched = _scheduler(ws_store, ws_paths, auto_schedule=False)
    assert sched.should_train(True, 10_000, 1e9, False) == (
        False,
        "automatic training is off (training.auto_schedule)",
    )


async def test_tick_counts_user_labels_since_the_last_training(
    ws_store: DecisionStore, ws_paths: WorkspacePaths
) -> None:
    await record_corrections(ws_store, 3)  # 3 proposals: accept + correct each = 6 verdicts
    settings = fast_settings(min_new_labels=7, auto_schedule=True)
    manager = TrainingManager(ws_store, ws_paths, settings)
    sched = Scheduler(manager, settings, is_mature=lambda: True)
    assert await manager.new_labels() == 6
    decision = await sched.tick()
    assert not decision.train and decision.new_labels == 6
    assert not manager.running
    immature = Scheduler(manager, settings, is_mature=lambda: False)
    assert (await immature.tick()).reason == "the profile is not mature yet"
    never = Scheduler(manager, settings)  # no maturity probe: only "Train now" trains
    assert not (await never.tick()).mature


@pytest.mark.slow
async def test_waits_while_typing_then_runs_exactly_one_kto_training(
    ws_store: DecisionStore, ws_paths: WorkspacePaths, tiny_model: Path
) -> None:
    await record_labels(ws_store, 16)  # accepts and rejects: the scheduler's run is KTO
    settings = fast_settings(
        min_new_labels=3, typing_quiet_seconds=0.5, tick_seconds=120, max_steps=4
    )
    manager = TrainingManager(ws_store, ws_paths, settings, base_model=tiny_model)
    started = asyncio.Event()
    starts: list[float] = []
    results: list[TrainingResult] = []

    def on_progress(event: ProgressEvent) -> None:
        if event.phase == "preparing":
            starts.append(time.monotonic())
            started.set()

    sched = Scheduler(
        manager,
        settings,
        is_mature=lambda: True,
        on_progress=on_progress,
        on_result=results.append,
    )
    sched.note_typing()
    typed_at = time.monotonic()
    first = await sched.tick()
    assert not first.train and first.reason == "the user is typing"
    assert not manager.running

    loop = asyncio.create_task(sched.run())
    await asyncio.wait_for(started.wait(), timeout=60)
    assert starts[0] - typed_at >= settings.training.typing_quiet_seconds
    again = await sched.tick()  # the run is going: no second one
    assert not again.train and again.reason == "a training is already running"

    result = await sched.wait_idle()
    sched.stop()
    await loop
    assert result is not None and results == [result] and len(starts) == 1
    assert result.status == "promoted", result.reason
    assert result.method == "kto" and result.gate is not None and result.gate.metric == "auc"
    assert result.metrics is not None and result.metrics.candidate.auc is not None
    assert result.metrics.candidate.auc >= 0.5
    # the labels it trained on are used up: the next tick waits for new ones
    assert await manager.new_labels() == 0
    assert not (await sched.tick()).train
