"""`python -m tether.training.worker JOB.json`: one training run in its own process.

Why a process: training holds the GIL and the CPU for minutes; in a child the language
server keeps answering, and a crash, an out-of-memory kill or a cancel cannot take the
server or the store with it.

Protocol: one JSON object per line on stdout ("started", "progress"…, then "done",
"error" or "cancelled"). Anything libraries print goes to stderr instead (fd 1 is
re-pointed at fd 2 before they load). The worker reads stdin: a line "cancel" stops it at
once, and end-of-file (the parent died) does too, so no orphan keeps the CPU busy.
Nothing is promoted here; the parent decides, so a worker that dies leaves the active
adapter as it was.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from tether.training.models import ProgressEvent, TrainingJob

EXIT_CANCELLED = 3


class Stream:
    """The protocol channel: a private copy of the original stdout, one line per event."""

    def __init__(self) -> None:
        sys.stdout.flush()
        self._out: IO[str] = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
        os.dup2(2, 1)  # library chatter on fd 1 now lands on stderr
        self._lock = threading.Lock()

    def emit(self, event: ProgressEvent) -> None:
        line = event.model_dump_json(exclude_none=True)
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()


def _watch_stdin(stream: Stream) -> None:
    """Exit at once on "cancel" or when the parent goes away (stdin closes)."""

    def watch() -> None:
        for line in sys.stdin:
            if line.strip() == "cancel":
                break
        else:  # EOF: nobody is listening any more
            os._exit(EXIT_CANCELLED)
        with contextlib.suppress(Exception):
            stream.emit(ProgressEvent(event="cancelled", message="cancelled"))
        os._exit(EXIT_CANCELLED)

    threading.Thread(target=watch, name="tether-cancel-watch", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tether.training.worker")
    parser.add_argument("job", type=Path, help="the JOB.json written by TrainingManager")
    parser.add_argument(
        "--detached", action="store_true", help="do not watch stdin (for running a job by hand)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    stream = Stream()
    if not args.detached:
        _watch_stdin(stream)
    stream.emit(
        ProgressEvent(event="started", message="starting the trainer", data={"pid": os.getpid()})
    )
    try:
        job = TrainingJob.model_validate_json(args.job.read_text(encoding="utf-8"))
        if job.nice:
            with contextlib.suppress(OSError, AttributeError):
                os.nice(job.nice)  # the editor and the language server come first
        from tether.training.trainer import run_job

        report = run_job(job, stream.emit)
    except Exception as exc:
        stream.emit(
            ProgressEvent(
                event="error",
                message=f"{type(exc).__name__}: {exc}",
                data={"traceback": traceback.format_exc()[-4000:]},
            )
        )
        return 1
    stream.emit(ProgressEvent(event="done", message="done", data=report.model_dump()))
    return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    # Skip interpreter teardown (seconds with torch loaded): everything is written and
    # flushed, and the parent is waiting for the exit to release the training lock.
    os._exit(code)
