"""Which Tether servers run on a workspace, and how much memory each one holds.

Each language server writes `servers/<pid>.json` next to the workspace's store while it
runs (VS Code starts one per window, so two windows on one folder are two servers). The
file lets `tether doctor` report every server's memory, and lets a starting server tell a
crashed predecessor's leftovers (pending proposals nobody shows any more) from those of a
server that is still running. A file whose process is gone, or whose pid now belongs to
another process (its start time differs), is stale and removed by whoever reads it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import psutil
from pydantic import BaseModel, ValidationError

from tether.paths import WorkspacePaths

log = logging.getLogger(__name__)


class Instance(BaseModel):
    """What a running server says about itself (written by that server)."""

    pid: int
    started: float  # the process's start time (psutil's create_time): tells pid reuse apart
    workspace: str
    client_pid: int | None = None
    model: str | None = None
    model_loaded: bool = False
    updated: float = 0.0


class Running(Instance):
    """An instance seen from outside, with its memory measured now."""

    rss_bytes: int = 0
    current: bool = False  # the process asking


def servers_dir(paths: WorkspacePaths) -> Path:
    return paths.root / "servers"


def process_started(pid: int | None = None) -> float:
    return float(psutil.Process(pid or os.getpid()).create_time())


def rss_bytes(pid: int | None = None) -> int:
    """Resident memory of a process (this one by default), in bytes."""
    return int(psutil.Process(pid or os.getpid()).memory_info().rss)


class Registration:
    """This process's entry for one workspace; `update()` it, `close()` it on the way out."""

    def __init__(self, paths: WorkspacePaths, client_pid: int | None = None) -> None:
        self.paths = paths
        self.file = servers_dir(paths) / f"{os.getpid()}.json"
        self.info = Instance(
            pid=os.getpid(),
            started=process_started(),
            workspace=str(paths.workspace),
            client_pid=client_pid,
        )
        self._write()

    def update(self, **fields: Any) -> None:
        changed = any(getattr(self.info, k) != v for k, v in fields.items())
        if changed:
            self.info = self.info.model_copy(update=fields)
            self._write()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.file.unlink()

    def _write(self) -> None:
        self.info.updated = time.time()
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.file.with_suffix(".tmp")
            tmp.write_text(self.info.model_dump_json(), encoding="utf-8")
            os.replace(tmp, self.file)
        except OSError as exc:  # a read-only data root: the server still works
            log.warning("cannot record this server in %s: %s", self.file.parent, exc)


def _alive(info: Instance) -> bool:
    try:
        proc = psutil.Process(info.pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return abs(proc.create_time() - info.started) < 1.0
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def running(paths: WorkspacePaths) -> list[Running]:
    """The servers running on this workspace now, with their resident memory; removes
    the files of servers that are gone (crashed or killed)."""
    folder = servers_dir(paths)
    if not folder.is_dir():
        return []
    found: list[Running] = []
    for file in sorted(folder.glob("*.json")):
        try:
            info = Instance.model_validate(json.loads(file.read_text(encoding="utf-8")))
        except (OSError, ValueError, ValidationError):
            continue  # being written, or not ours
        if not _alive(info):
            with contextlib.suppress(OSError):
                file.unlink()
            continue
        try:
            rss = rss_bytes(info.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        found.append(Running(**info.model_dump(), rss_bytes=rss, current=info.pid == os.getpid()))
    return found


def others_running(paths: WorkspacePaths) -> list[Running]:
    return [r for r in running(paths) if not r.current]
