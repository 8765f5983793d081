"""A cancelled or killed trainer leaves the active adapter, the store and the lock intact."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from filelock import FileLock

from tether.decisions import DecisionStore
from tether.paths import WorkspacePaths
from tether.training import TrainingBusy, TrainingManager
from tether.training.lineage import ADAPTER_FILE, file_sha256
from tether.training.models import ProgressEvent, TrainingResult

from .conftest import fast_settings
from .helpers import install_active_adapter, record_corrections, record_labels

pytestmark = pytest.mark.slow


async def _start_and_wait_for_a_step(
    manager: TrainingManager,
) -> tuple[asyncio.Task[TrainingResult], list[ProgressEvent]]:
    """Start a run and return once the worker is training (model loaded, data tokenised)."""
    stepped = asyncio.Event()
    events: list[ProgressEvent] = []

    def on_progress(event: ProgressEvent) -> None:
        events.append(event)
        if event.phase == "training":
            stepped.set()

    task = asyncio.create_task(manager.train_now(on_progress, max_steps=50))
    done, _ = await asyncio.wait(
        [task, asyncio.create_task(stepped.wait())], return_when=asyncio.FIRST_COMPLETED
    )
    assert task not in done, f"the run ended before training: {task.result()}"
    return task, events


async def _assert_untouched(store: DecisionStore, paths: WorkspacePaths, sha: str) -> None:
    active = await store.active_adapter()
    assert active is not None and active.version == "v1"
    assert file_sha256(paths.adapters / "v1" / ADAPTER_FILE) == sha
    assert [r.version for r in await store.adapters()] == ["v1"]
    assert sorted(os.listdir(paths.adapters)) == ["v1"]
    assert not paths.jobs.exists() or not os.listdir(paths.jobs)  # temp candidate gone
    verify = await store.verify()
    assert verify.ok, verify.summary()
    lock = FileLock(str(paths.train_lock), timeout=0)
    lock.acquire()  # released: the next run can start
    lock.release()


async def test_cancel_mid_run_keeps_the_active_adapter(
    ws_store: DecisionStore, ws_paths: WorkspacePaths, tiny_model: Path, tiny_adapter: Path
) -> None:
    await record_corrections(ws_store, 10)
    sha = await install_active_adapter(ws_store, ws_paths.adapters, tiny_adapter)
    head_before = await ws_store.head()
    manager = TrainingManager(ws_store, ws_paths, fast_settings(), base_model=tiny_model)
    task, _events = await _start_and_wait_for_a_step(manager)

    with pytest.raises(TrainingBusy):  # one training per workspace, in this process…
        await manager.train_now()
    other = TrainingManager(ws_store, ws_paths, fast_settings(), base_model=tiny_model)
    with pytest.raises(TrainingBusy, match="another Tether process"):  # …and across them
        await other.train_now()
    assert manager.status().state == "training" and manager.status().phase == "training"

    assert await manager.cancel()
    result = await task
    assert result.status == "cancelled"
    assert manager.status().state == "idle"
    assert await ws_store.head() == head_before  # nothing was recorded
    await _assert_untouched(ws_store, ws_paths, sha)


async def test_killed_worker_keeps_the_active_adapter(
    ws_store: DecisionStore, ws_paths: WorkspacePaths, tiny_model: Path, tiny_adapter: Path
) -> None:
    await record_labels(ws_store, 12)  # accepts and rejects only: a KTO run this time
    sha = await install_active_adapter(ws_store, ws_paths.adapters, tiny_adapter)
    head_before = await ws_store.head()
    manager = TrainingManager(ws_store, ws_paths, fast_settings(), base_model=tiny_model)
    task, _events = await _start_and_wait_for_a_step(manager)

    pid = manager.worker_pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    result = await task

    assert result.method == "kto" and result.status == "failed"
    assert "killed (SIGKILL)" in result.reason
    assert await ws_store.head() == head_before
    await _assert_untouched(ws_store, ws_paths, sha)


async def test_a_failing_worker_reports_why_and_changes_nothing(
    ws_store: DecisionStore, ws_paths: WorkspacePaths, tiny_adapter: Path, tmp_path: Path
) -> None:
    await record_corrections(ws_store, 6)
    sha = await install_active_adapter(ws_store, ws_paths.adapters, tiny_adapter)
    head_before = await ws_store.head()
    missing = tmp_path / "no-such-model"
    manager = TrainingManager(ws_store, ws_paths, fast_settings(), base_model=missing)
    result = await manager.train_now()
    assert result.status == "failed"
    assert str(missing) in result.reason  # the worker's own error message, relayed
    assert manager.status().last_result == result
    assert await ws_store.head() == head_before
    await _assert_untouched(ws_store, ws_paths, sha)
