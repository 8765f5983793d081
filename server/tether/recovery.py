"""Crash-only restarts: what a starting server clears up after one that was killed.

A server can die mid-anything (an editor crash, `kill -9`, a closed SSH session). Nothing
it recorded is lost (every decision is durable when recorded), but two kinds of leftovers
remain, and the next server to open the workspace clears them:

- proposals still pending: no editor shows them any more, so they expire, each with a
  recorded reason (a chained `expired` row, as for any other stale proposal);
- a training run's job folder: the worker died with its parent (see
  `tether.core.processes`); the file lock on `train.lock` went with the process, so a
  lock that can be taken now is by definition stale, and its job folders can go.

Proposals made through `tether serve`'s HTTP API are never an editor's, so they stay
pending for the API's clients (see `tether.publish.production`). Pending proposals of
another server still running on the same workspace (a second window) are left alone:
only those created before every running server started are orphans for sure.
"""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout
from pydantic import BaseModel

from tether.core.types import ProposalState

if TYPE_CHECKING:
    from tether.service import TetherService

log = logging.getLogger(__name__)

ORPHAN_REASON = (
    "the server that made it stopped before it was decided (editor closed, crash or kill); "
    "ask again for a new proposal"
)


class Recovery(BaseModel):
    expired: list[str] = []
    jobs_removed: list[str] = []
    lock_free: bool = True


async def recover(service: TetherService, *, before: float) -> Recovery:
    """Expire pending proposals created before `before` (a Unix time: the earliest start
    of the servers running now) and remove a dead run's job folders."""
    out = Recovery()
    cutoff = datetime.fromtimestamp(before, tz=UTC)
    while True:
        batch = [
            p
            for p in await service.store.proposals(state=ProposalState.PENDING, limit=500)
            if _when(p.created_at) < cutoff
            and p.id not in out.expired
            and p.meta.get("channel") != "api"  # `tether serve`'s: decided through the API
        ]
        if not batch:
            break
        for proposal in batch:
            await service.expire(proposal.id, ORPHAN_REASON)
            out.expired.append(proposal.id)
    paths = service.paths
    if paths.train_lock.parent.is_dir():
        lock = FileLock(str(paths.train_lock), timeout=0)
        try:
            lock.acquire()
        except Timeout:  # a run is going on in another process: its jobs are live
            out.lock_free = False
        else:
            try:
                if paths.jobs.is_dir():
                    for entry in paths.jobs.iterdir():
                        shutil.rmtree(entry, ignore_errors=True)
                        out.jobs_removed.append(entry.name)
            finally:
                lock.release()
    if out.expired or out.jobs_removed:
        log.info(
            "recovered: %d orphaned proposals expired, %d stale training jobs removed",
            len(out.expired),
            len(out.jobs_removed),
        )
    return out


def _when(stamp: str) -> datetime:
    ts = datetime.fromisoformat(stamp)
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
