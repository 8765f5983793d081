"""The decision store: one SQLite file per workspace, WAL, hash-chained decision log.

`DecisionStore` is a façade over parts with one job each, sharing one connection and its
write lock (`log.ChainedLog`): the chained log itself (appends, head, checkpoints), the
proposal lifecycle (`proposals.py`), pins, adapters, sealed profile snapshots and memory
items (`sealed.py`) and the log's queries (`queries.py`). Opening and migrating is
`opening.py`; checking a store is `verify.py`. Callers use only this class, so the split
changes nothing for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tether.core.types import TERMINAL, Actor, Outcome, Proposal, ProposalState
from tether.decisions import checkpoints as cps
from tether.decisions.adapters import AdapterRepository
from tether.decisions.errors import InvalidTransition, StoreError, StoreWriteError, UnknownProposal
from tether.decisions.files import check_store_file
from tether.decisions.log import CHECKPOINT_EVERY, ChainedLog
from tether.decisions.models import (
    AdapterRow,
    DecisionContent,
    DecisionRecord,
    HistoryFilter,
    HistoryPage,
    MemoryRow,
    ProfileSnapshot,
    VerifyResult,
)
from tether.decisions.opening import open_log
from tether.decisions.pins import PinRepository
from tether.decisions.proposals import ProposalRepository
from tether.decisions.queries import LogQueries
from tether.decisions.sealed import MemoryRepository, SnapshotRepository
from tether.decisions.transitions import STATE_AFTER
from tether.decisions.verify import verify_file


class DecisionStore:
    """Async access to one workspace's store. Use `await DecisionStore.open(path)`."""

    def __init__(self, chain: ChainedLog) -> None:
        self.path = chain.path
        self.log = chain
        self._proposals = ProposalRepository(chain)
        self._queries = LogQueries(chain)
        self._pins = PinRepository(chain)
        self._adapters = AdapterRepository(chain)
        self._snapshots = SnapshotRepository(chain)
        self._memory = MemoryRepository(chain)

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    async def open(
        cls, path: Path, *, create: bool = True, checkpoint_every: int = CHECKPOINT_EVERY
    ) -> DecisionStore:
        """Open (or create) a store; `checkpoint_every` decisions get a signed checkpoint."""
        chain = await open_log(Path(path), create=create, checkpoint_every=checkpoint_every)
        return cls(chain)

    async def close(self) -> None:
        """Close; rows appended through this store since its last checkpoint get one."""
        await self.log.close()

    async def __aenter__(self) -> DecisionStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def checkpoint_every(self) -> int:
        return self.log.checkpoint_every

    async def checkpoint(
        self, reason: cps.CheckpointReason = "manual", *, at: tuple[int, str] | None = None
    ) -> cps.Checkpoint:
        """Sign a checkpoint of the head (or of row `at`); see `ChainedLog.checkpoint`."""
        return await self.log.checkpoint(reason, at=at)

    async def latest_checkpoint(self) -> cps.Checkpoint | None:
        return await self.log.latest_checkpoint()

    async def verify(self, *, against: Path | None = None) -> VerifyResult:
        """Recompute the chain in a separate read-only connection, off the event loop.

        The header check is skipped: this process holds the file open through SQLite, and
        closing any other descriptor of it (a plain `open()`) would drop SQLite's POSIX locks,
        letting another process delete the WAL under this connection.
        """
        return await asyncio.to_thread(verify_file, self.path, check_header=False, against=against)

    # ------------------------------------------------------------------ the log
    async def append(self, content: DecisionContent) -> DecisionRecord:
        """Append a row that is not about a proposal (training outcomes, system events)."""
        return await self.log.append(content)

    async def head(self) -> tuple[int, str]:
        """The log's last row (seq, hash)."""
        return await self.log.head()

    async def decisions(
        self, *, after_seq: int = 0, until_seq: int | None = None
    ) -> list[DecisionRecord]:
        """All decision rows in chain order (for rebuilding the profile and extracting signals)."""
        return await self._queries.decisions(after_seq=after_seq, until_seq=until_seq)

    async def decisions_for(self, proposal_id: str) -> list[DecisionRecord]:
        return await self._queries.decisions_for(proposal_id)

    async def history(
        self, flt: HistoryFilter | None = None, *, offset: int = 0, limit: int = 50
    ) -> HistoryPage:
        """Newest first, filtered and paged."""
        return await self._queries.history(flt, offset=offset, limit=limit)

    # ------------------------------------------------------------------ proposals
    async def add_proposal(
        self, proposal: Proposal, *, actor: Actor = Actor.SYSTEM
    ) -> DecisionRecord:
        """Store a proposal and its `proposed` row in one transaction."""
        return await self._proposals.add(proposal, actor=actor)

    async def record(
        self,
        outcome: Outcome,
        *,
        actor: Actor,
        proposal_id: str | None = None,
        reason: str | None = None,
        before: str | None = None,
        after: str | None = None,
        hunks: Sequence[int] | None = None,
        candidate: int | None = None,
        class_key: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> DecisionRecord:
        """Append one decision, checked against the proposal's state; durable on return."""
        return await self._proposals.record(
            outcome,
            actor=actor,
            proposal_id=proposal_id,
            reason=reason,
            before=before,
            after=after,
            hunks=hunks,
            candidate=candidate,
            class_key=class_key,
            data=data,
        )

    async def get_proposal(self, proposal_id: str) -> Proposal:
        """The proposal, its state as the log says (the table's copy is not trusted)."""
        return await self._proposals.get(proposal_id)

    async def proposals(
        self, *, state: ProposalState | None = None, uri: str | None = None, limit: int = 500
    ) -> list[Proposal]:
        return await self._proposals.find(state=state, uri=uri, limit=limit)

    # ------------------------------------------------------------------ pins
    async def set_pin(
        self, class_key: str, mode: str | None, *, reason: str | None = None
    ) -> DecisionRecord:
        """Pin a class ("always_ask" / "never_auto"), or unpin with mode None; logged."""
        return await self._pins.set(class_key, mode, reason=reason)

    async def pins(self) -> dict[str, str]:
        """Pins folded from the log's `pinned` rows; the pins table is only a mirror."""
        return await self._pins.all()

    # ------------------------------------------------------------------ adapters
    async def put_adapter(self, row: AdapterRow) -> None:
        await self._adapters.put(row)

    async def adapters(self) -> list[AdapterRow]:
        return await self._adapters.all()

    async def active_adapter(self) -> AdapterRow | None:
        return await self._adapters.active()

    async def activate_adapter(
        self, version: str | None, decision: DecisionContent
    ) -> DecisionRecord:
        """Make `version` the active adapter (None: the base model) and log it, atomically."""
        return await self._adapters.activate(version, decision)

    # ------------------------------------------------------------------ sealed state
    async def save_profile_snapshot(self, head_seq: int, body: dict[str, Any]) -> None:
        await self._snapshots.save(head_seq, body)

    async def latest_profile_snapshot(self) -> ProfileSnapshot | None:
        """The newest snapshot whose seal holds; None makes the profile replay the log."""
        return await self._snapshots.latest()

    async def put_memory(self, item: MemoryRow) -> None:
        await self._memory.put(item)

    async def memory(
        self, *, kind: str | None = None, class_key: str | None = None, active_only: bool = True
    ) -> list[MemoryRow]:
        return await self._memory.find(kind=kind, class_key=class_key, active_only=active_only)

    async def delete_memory(self, item_id: str) -> bool:
        return await self._memory.delete(item_id)


__all__ = [
    "CHECKPOINT_EVERY",
    "STATE_AFTER",
    "TERMINAL",
    "DecisionStore",
    "InvalidTransition",
    "StoreError",
    "StoreWriteError",
    "UnknownProposal",
    "check_store_file",
    "verify_file",
]
