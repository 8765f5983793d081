"""Crash-only: `kill -9` of the server leaves no orphan, and the next start recovers.

Also the helper every child of the server goes through (`tether.core.processes`): a
child, and a tool command's own children, end with the server however it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from tether.core import processes
from tether.core.types import Range
from tether.recovery import ORPHAN_REASON

from .conftest import IMPROVE, SOURCE
from .test_lsp_citizen import _training_env, _training_step, tiny_model  # noqa: F401
from .wire import ENDS_WITHIN, Wire, children, gone_within

pytestmark = pytest.mark.timeout(300)


@pytest.mark.slow
async def test_kill_9_during_training_then_the_next_start_recovers(
    ws: Path,
    tmp_path: Path,
    tether_home: Path,
    tiny_model: Path,  # noqa: F811
) -> None:
    from filelock import FileLock
    from tests.training.helpers import (
        build_tiny_adapter,
        install_active_adapter,
        record_corrections,
    )

    from tether.decisions import DecisionStore
    from tether.paths import WorkspacePaths
    from tether.training.lineage import ADAPTER_FILE, file_sha256

    paths = WorkspacePaths(ws, tether_home).ensure()
    store = await DecisionStore.open(paths.db)
    await record_corrections(store, 10)
    adapter = build_tiny_adapter(tmp_path / "adapter", tiny_model)
    sha = await install_active_adapter(store, paths.adapters, adapter)
    await store.close()

    replay = tmp_path / "replay.jsonl"
    replay.write_text(json.dumps(IMPROVE) + "\n", encoding="utf-8")
    env = {
        **_training_env(tiny_model),
        "TETHER_MODEL": f"replay:{replay}",  # proposals from the replay,
        "TETHER_TRAINING__BASE_MODEL": str(tiny_model),  # training on the tiny model
    }
    first = await Wire.start(ws, env)
    await first.initialize()
    uri = first.open("app.py", SOURCE)
    proposed = await first.command(
        "tether.propose",
        {"uri": uri, "range": Range.of(0, 0, 3, 18).model_dump(), "task": "improve"},
    )
    (pending,) = proposed["result"]["proposalIds"]
    assert (await first.command("tether.trainNow", {}))["result"]["started"] is True
    await first.until(lambda: _training_step(first), "a training step")
    workers = [p for p in children(first.pid) if "tether.training.worker" in p.cmdline()]
    assert workers

    first.proc.kill()  # SIGKILL: no handler runs, nothing is closed
    since = time.monotonic()
    await first.proc.wait()
    await gone_within(workers, ENDS_WITHIN, since)  # the trainer saw its parent go

    second = await Wire.start(ws, env)
    try:
        await second.initialize()
        recovered = await second.poll_status(
            lambda s: s["memory"]["recovered"].get(str(ws.resolve())), "start-up recovery"
        )
        assert recovered == {"expired": 1, "jobsRemoved": 1}

        async def expired() -> dict:
            view = await second.result("tether/proposal", {"proposalId": pending})
            return view if view["state"] == "expired" else {}

        async with asyncio.timeout(120):
            while not await expired():
                await asyncio.sleep(0.05)  # polling for the recovery to record it
        history = await second.result("tether/history", {"filter": {"outcome": "expired"}})
        assert [i["reason"] for i in history["items"]] == [ORPHAN_REASON]
        await second.poll_status(
            lambda _: not paths.jobs.exists() or not os.listdir(paths.jobs), "jobs cleared"
        )
        verify = await second.command("tether.verify", {})
        assert verify["result"]["ok"] is True
        lock = FileLock(str(paths.train_lock), timeout=0)
        lock.acquire()  # usable: no one holds it
        lock.release()
    finally:
        await second.kill()
    store = await DecisionStore.open(paths.db)
    try:
        active = await store.active_adapter()
        assert active is not None and active.version == "v1"
    finally:
        await store.close()
    assert file_sha256(paths.adapters / "v1" / ADAPTER_FILE) == sha
    assert sorted(os.listdir(paths.adapters)) == ["v1"]  # no half-written candidate


async def test_a_second_window_leaves_the_first_ones_proposals_alone(
    ws: Path, tmp_path: Path
) -> None:
    replay = tmp_path / "replay.jsonl"
    replay.write_text(json.dumps(IMPROVE) + "\n", encoding="utf-8")
    env = {"TETHER_MODEL": f"replay:{replay}", "TETHER_TRAINING__AUTO_SCHEDULE": "false"}
    first = await Wire.start(ws, env)
    second: Wire | None = None
    try:
        await first.initialize()
        uri = first.open("app.py", SOURCE)
        greet = Range.of(0, 0, 3, 18).model_dump()
        proposed = await first.command(
            "tether.propose", {"uri": uri, "range": greet, "task": "improve"}
        )
        (pending,) = proposed["result"]["proposalIds"]

        second = await Wire.start(ws, env)
        await second.initialize()
        done = await second.poll_status(
            lambda s: s["memory"]["recovered"].get(str(ws.resolve())), "start-up recovery"
        )
        assert done == {"expired": 0, "jobsRemoved": 0}
        view = await second.result("tether/proposal", {"proposalId": pending})
        assert view["state"] == "pending"  # still shown in the first window
    finally:
        await first.kill()
        if second is not None:
            await second.kill()


# ---------------------------------------------------------------------- the helper
#: A tool command that starts a child of its own (as pytest or a shell would) and prints
#: that child's pid.
TOOL = (
    "import subprocess, sys, time; "
    "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
    "print(p.pid, flush=True); time.sleep(600)"
)
#: A stand-in for the server: spawns through tether.core.processes, prints the pids.
PARENT = textwrap.dedent(
    """
    import asyncio, sys
    from tether.core import processes

    async def main():
        tool = [sys.executable, "-c", sys.argv[2]]
        if sys.argv[1] == "timeout":
            done = await processes.run(tool, timeout=1.0)
            print(done.timed_out, done.stdout.strip(), flush=True)
        else:
            sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
            direct = await processes.spawn(sleeper, own_group=False)
            group = await processes.spawn(tool, stdout=asyncio.subprocess.PIPE)
            grandchild = (await group.stdout.readline()).decode().strip()
            print(direct.pid, group.pid, grandchild, flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)


def _parent(mode: str) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", PARENT, mode, TOOL], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().split()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PDEATHSIG is Linux's")
async def test_children_and_their_children_die_with_a_kill_9_parent() -> None:
    parent, pids = _parent("wait")
    kids = [psutil.Process(int(p)) for p in pids]  # trainer-like, tool, the tool's child
    try:
        assert len(kids) == 3 and all(k.is_running() for k in kids)
        parent.send_signal(signal.SIGKILL)
        since = time.monotonic()
        parent.wait()
        await gone_within(kids, ENDS_WITHIN, since)
    finally:
        for k in kids:
            with contextlib.suppress(psutil.NoSuchProcess):
                k.kill()


async def test_a_timed_out_command_ends_with_its_children() -> None:
    parent, words = _parent("timeout")
    try:
        assert words[0] == "True"  # timed out
        grandchild = psutil.Process(int(words[1]))
        await gone_within([grandchild], ENDS_WITHIN, time.monotonic())
    finally:
        parent.kill()
        parent.wait()


async def test_kill_all_ends_every_registered_child() -> None:
    proc = await processes.spawn([sys.executable, "-c", "import time; time.sleep(600)"])
    ps = psutil.Process(proc.pid)
    assert proc.pid in processes.live_children()
    assert processes.kill_all() >= 1
    await processes.reap(proc)
    assert proc.returncode == -signal.SIGKILL
    assert proc.pid not in processes.live_children()
    assert not ps.is_running()
