"""The chained log on one SQLite connection: write transactions, appends, checkpoints.

A decision is committed (synchronous=FULL) before an append returns, so a decision the
editor was told about survives a crash. Appends take the write lock up front
(BEGIN IMMEDIATE, or a single INSERT, which SQLite begins as a write transaction), so several
processes can append to one store and the chain stays whole.

An append is one SQL statement (one trip to aiosqlite's worker thread): it reads the chain
head, hashes the row with a function registered on the connection, inserts it and, through
a TEMP trigger that only Tether's own connections carry, moves the recorded head. A row
inserted by anything else leaves the head alone, which is how `verify` spots it.

The repositories (proposals, pins, adapters, snapshots, memory, queries) share this one
connection and its write lock; `opening.py` sets it up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite

from tether.decisions import checkpoints as cps
from tether.decisions.chain import canonical_json
from tether.decisions.errors import StoreError, StoreWriteError
from tether.decisions.files import release
from tether.decisions.keys import StoreKey, StoreKeyError
from tether.decisions.models import DecisionContent, DecisionRecord
from tether.decisions.schema import GENESIS_HASH

log = logging.getLogger(__name__)

#: A checkpoint every this many decisions, unless the caller says otherwise.
CHECKPOINT_EVERY = 100

#: Registered on every store connection; the same functions the verifier recomputes.
HASH_FUNCTION = "tether_row_hash"
SEAL_FUNCTION = "tether_seal"

#: Per connection (TEMP), so rows that other programs insert are neither sealed nor move
#: the recorded head: both are how `verify` spots them.
HEAD_TRIGGER = f"""
CREATE TEMP TRIGGER IF NOT EXISTS tether_seal_row AFTER INSERT ON decisions
BEGIN
  UPDATE decisions SET seal = {SEAL_FUNCTION}('row:' || NEW.seq || ':' || NEW.hash)
  WHERE seq = NEW.seq;
  UPDATE meta SET value = CASE key WHEN 'head_hash' THEN NEW.hash WHEN 'head_seq' THEN NEW.seq
    ELSE {SEAL_FUNCTION}('head:' || NEW.seq || ':' || NEW.hash) END
  WHERE key IN ('head_hash', 'head_seq', 'head_seal');
END
"""

#: Chain to the log's last row, hash, insert (the trigger seals it and moves the head), all
#: in one statement and one transaction. The previous hash comes from the rows themselves,
#: not from meta, so an edited meta head cannot make Tether fork its own chain.
_APPEND_SQL = f"""
INSERT INTO decisions(body, prev_hash, hash)
SELECT :body, h, {HASH_FUNCTION}(h, :body) FROM (
  SELECT coalesce((SELECT hash FROM decisions ORDER BY seq DESC LIMIT 1), '{GENESIS_HASH}') AS h
)
RETURNING seq, prev_hash, hash
"""


class ChainedLog:
    """One store connection: its write lock, the chain's appends and its checkpoints."""

    def __init__(self, path: Path, conn: aiosqlite.Connection, claim: str | None = None) -> None:
        self.path = path
        self.db = conn
        self.lock = asyncio.Lock()  # one write transaction at a time on this connection
        self._claim = claim
        self.key: StoreKey | None = None  # set by opening.prepare
        self.store_id = ""
        self.checkpoint_every = CHECKPOINT_EVERY
        self.checkpointed = 0  # the highest row this connection knows a checkpoint for
        self._unanchored = False  # rows appended here since this connection's last checkpoint
        self._appended: DecisionRecord | None = None  # the row the open transaction appended
        self._own_seq = 0  # the last row this connection appended

    def sealing(self) -> StoreKey:
        """The store's key (seals of snapshots and memory items)."""
        if self.key is None:
            raise StoreError(f"{self.path} is not open")
        return self.key

    # ------------------------------------------------------------------ transactions
    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction holding SQLite's write lock from the start; commit or roll back."""
        async with self.lock:
            db = self.db
            try:
                await db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreWriteError(f"cannot write to {self.path}: {exc}") from exc
            try:
                yield db
                await db.execute("COMMIT")
            except BaseException as exc:
                self._appended = None
                with contextlib.suppress(sqlite3.Error):
                    await db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreWriteError(f"write to {self.path} failed: {exc}") from exc
                raise
        await self._after_commit()

    async def chain(self, db: aiosqlite.Connection, content: DecisionContent) -> DecisionRecord:
        """Chain one row in one statement; inside a `write` block or as its own transaction."""
        fields = content.model_dump(mode="json")
        rows = await db.execute_fetchall(_APPEND_SQL, {"body": canonical_json(fields)})
        if not rows:
            raise StoreError(f"{self.path} has no chain head in its meta table")
        seq, prev, digest = rows[0]
        record = DecisionRecord.model_validate(
            {**fields, "seq": seq, "prev_hash": prev, "hash": digest}
        )
        self._appended = record
        return record

    async def append(self, content: DecisionContent) -> DecisionRecord:
        """Append a row that is not about a proposal (training outcomes, system events).

        A single INSERT in autocommit mode: SQLite takes the write lock before it reads the
        head (as BEGIN IMMEDIATE would) and commits, durably, before the statement returns.
        """
        async with self.lock:
            try:
                record = await self.chain(self.db, content)
            except sqlite3.Error as exc:
                self._appended = None
                if self.db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        await self.db.execute("ROLLBACK")
                raise StoreWriteError(f"write to {self.path} failed: {exc}") from exc
        await self._after_commit()
        return record

    async def head(self) -> tuple[int, str]:
        """The log's last row (seq, hash), read from the rows: an edited meta head, which
        `verify` reports, cannot make readers replay fewer rows."""
        rows = await self.db.execute_fetchall(
            "SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1"
        )
        return (rows[0][0], rows[0][1]) if rows else (0, GENESIS_HASH)

    async def hash_at(self, db: aiosqlite.Connection, seq: int) -> str | None:
        """Row `seq`'s hash ("" before the first row, None past the log's end)."""
        if seq <= 0:
            return ""
        rows = await db.execute_fetchall("SELECT hash FROM decisions WHERE seq = ?", (seq,))
        return rows[0][0] if rows else None

    # ------------------------------------------------------------------ checkpoints
    async def _after_commit(self) -> None:
        """A checkpoint whenever the log crosses a multiple of `checkpoint_every` rows.

        After the commit and outside the lock: the decision is durable whatever happens to
        the checkpoint, and a failed checkpoint is only logged (the next one covers it).
        """
        record, self._appended = self._appended, None
        if record is None:
            return
        self._unanchored = True
        self._own_seq = max(self._own_seq, record.seq)
        every = self.checkpoint_every
        if record.seq // every > self.checkpointed // every:
            try:
                await self.checkpoint("interval", at=(record.seq, record.hash))
            except (OSError, cps.CheckpointError, StoreKeyError) as exc:
                log.warning("checkpoint at row %s not written: %s", record.seq, exc)

    async def checkpoint(
        self, reason: cps.CheckpointReason = "manual", *, at: tuple[int, str] | None = None
    ) -> cps.Checkpoint:
        """Sign and append a checkpoint of the head (or of row `at`); durable on return.

        Training, publishing and shutdown call this; the result goes into the adapter's
        lineage or the bundle, so they can be checked against the log later.
        """
        key = self.sealing()
        seq, digest = at if at is not None else await self.head()
        cp = await asyncio.to_thread(
            cps.append,
            cps.checkpoint_path(self.path),
            key,
            store_id=self.store_id,
            seq=seq,
            head_hash=digest,
            reason=reason,
        )
        self.checkpointed = max(self.checkpointed, cp.seq)
        if cp.seq >= self._own_seq:
            self._unanchored = False
        return cp

    async def latest_checkpoint(self) -> cps.Checkpoint | None:
        return await asyncio.to_thread(cps.latest, cps.checkpoint_path(self.path))

    def latest_checkpoint_quietly(self) -> cps.Checkpoint | None:
        """The newest checkpoint, or None when the file cannot be read (verify says why)."""
        try:
            return cps.latest(cps.checkpoint_path(self.path))
        except (cps.CheckpointError, OSError) as exc:
            log.warning("cannot read the checkpoint file: %s (tether verify says more)", exc)
            return None

    # ------------------------------------------------------------------ closing
    async def close(self) -> None:
        """Close; rows appended through this connection since its last checkpoint get one."""
        if self._unanchored:
            try:
                await self.checkpoint("shutdown")
            except (StoreError, OSError, sqlite3.Error, cps.CheckpointError) as exc:
                log.warning("no checkpoint at shutdown: %s", exc)
        try:
            await self.db.close()
        finally:
            if self._claim is not None:
                release(self._claim)
                self._claim = None
