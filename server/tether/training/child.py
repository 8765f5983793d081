"""The training worker as a child process, seen from the server: start it, read its
progress lines, cancel it, and make sure it is gone when the run ends however it ends.

The worker (`worker.py`) speaks one JSON `ProgressEvent` per line on stdout and stops on a
"cancel" line or when its stdin closes; this is the other end of that pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

from tether.core import processes
from tether.training.models import ProgressEvent, WorkerReport

log = logging.getLogger(__name__)

CANCEL_GRACE_SECONDS = 10.0


class WorkerChild:
    """The worker of one training run (a new one per run, so a cancel that comes before
    the process starts still stops it); `run` returns its report or why there is none."""

    def __init__(self, python: str) -> None:
        self.python = python
        self._proc: asyncio.subprocess.Process | None = None
        self._cancelled = False

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc and proc.returncode is None else None

    async def run(
        self,
        job_file: Path,
        job_dir: Path,
        on_event: Callable[[ProgressEvent], Awaitable[None]],
    ) -> tuple[WorkerReport | None, str]:
        """Run the worker on `job_file`, passing each event on; (report, "") or (None, why)."""
        # PASSIVE: idle OpenMP threads sleep instead of spinning, so a busy machine (and the
        # editor on it) is not taxed for CPU the trainer is not using.
        env = {
            "OMP_WAIT_POLICY": "PASSIVE",
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "PYTHONUNBUFFERED": "1",
        }
        log_path = job_dir / "worker.log"
        with log_path.open("wb") as stderr:
            # dies with this process even on kill -9 (PDEATHSIG), besides seeing stdin close
            self._proc = proc = await processes.spawn(
                [self.python, "-m", "tether.training.worker", str(job_file)],
                own_group=False,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                env=env,
                limit=1 << 24,
            )
            if self._cancelled:  # cancelled while the worker was starting: it saw no "cancel"
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
            report: WorkerReport | None = None
            error = ""
            assert proc.stdout is not None
            async for raw in proc.stdout:
                try:
                    event = ProgressEvent.model_validate_json(raw)
                except ValueError:
                    log.debug("worker: %s", raw.decode(errors="replace").rstrip())
                    continue
                if event.event == "done":
                    report = WorkerReport.model_validate(event.data)
                elif event.event == "error":
                    error = event.message
                await on_event(event)
            code = await processes.reap(proc)
        if report is not None:
            return report, ""
        if not error:
            if code < 0:
                error = f"the training process was killed ({signal.Signals(-code).name})"
            else:
                error = f"the training process exited with code {code}"
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-1500:].strip()
        return None, f"{error}\n{tail}" if tail else error

    async def cancel(self) -> None:
        """Ask the worker to stop ("cancel" on its stdin); kill it after a grace period."""
        self._cancelled = True
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, OSError):
            assert proc.stdin is not None
            proc.stdin.write(b"cancel\n")
            await proc.stdin.drain()
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), CANCEL_GRACE_SECONDS)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()

    async def stop(self) -> None:
        """Make sure the worker is gone (the run ended, failed or was cancelled)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), CANCEL_GRACE_SECONDS)
        processes.forget(proc.pid)
