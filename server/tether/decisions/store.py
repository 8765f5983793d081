"""The decision store: one SQLite file per workspace, WAL, hash-chained decision log.

A decision is committed (synchronous=FULL) before `record` returns, so a decision the
editor was told about survives a crash. Appends take the write lock up front
(BEGIN IMMEDIATE, or a single INSERT, which SQLite begins as a write transaction), so several
processes can append to one store and the chain stays whole.

An append is one SQL statement (one trip to aiosqlite's worker thread): it reads the chain
head, hashes the row with a function registered on the connection, inserts it and, through
a TEMP trigger that only Tether's own connections carry, moves the recorded head. A row
inserted by anything else leaves the head alone, which is how `verify` spots it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from tether.core.types import TERMINAL, Actor, Outcome, Proposal, ProposalState, utcnow
from tether.decisions import checkpoints as cps
from tether.decisions import verify as verifier
from tether.decisions.chain import canonical_json, head_seal_message, row_hash
from tether.decisions.keys import StoreKey, StoreKeyError, key_path, load_key, load_or_create_key
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
from tether.decisions.schema import APP_ID, GENESIS_HASH, MIGRATIONS, SCHEMA_VERSION
from tether.decisions.state import (
    PINS_SQL,
    fold_pins,
    memory_seal_message,
    snapshot_seal_message,
    state_after,
    state_outcomes,
)

log = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 30_000

#: A checkpoint every this many decisions, unless the caller says otherwise.
CHECKPOINT_EVERY = 100

#: Registered on every store connection; the same functions the verifier recomputes.
_HASH_FUNCTION = "tether_row_hash"
_SEAL_FUNCTION = "tether_seal"

#: Per connection (TEMP), so rows that other programs insert are neither sealed nor move
#: the recorded head: both are how `verify` spots them.
_HEAD_TRIGGER = f"""
CREATE TEMP TRIGGER IF NOT EXISTS tether_seal_row AFTER INSERT ON decisions
BEGIN
  UPDATE decisions SET seal = {_SEAL_FUNCTION}('row:' || NEW.seq || ':' || NEW.hash)
  WHERE seq = NEW.seq;
  UPDATE meta SET value = CASE key WHEN 'head_hash' THEN NEW.hash WHEN 'head_seq' THEN NEW.seq
    ELSE {_SEAL_FUNCTION}('head:' || NEW.seq || ':' || NEW.hash) END
  WHERE key IN ('head_hash', 'head_seq', 'head_seal');
END
"""

#: Chain to the log's last row, hash, insert (the trigger seals it and moves the head), all
#: in one statement and one transaction. The previous hash comes from the rows themselves,
#: not from meta, so an edited meta head cannot make Tether fork its own chain.
_APPEND_SQL = f"""
INSERT INTO decisions(body, prev_hash, hash)
SELECT :body, h, {_HASH_FUNCTION}(h, :body) FROM (
  SELECT coalesce((SELECT hash FROM decisions ORDER BY seq DESC LIMIT 1), '{GENESIS_HASH}') AS h
)
RETURNING seq, prev_hash, hash
"""


class StoreError(RuntimeError):
    """The store cannot be used (corrupt, foreign, newer schema); never overwritten."""


class StoreWriteError(StoreError):
    """A write failed (disk full, read-only…); the decision was NOT recorded."""


class UnknownProposal(KeyError):
    def __str__(self) -> str:
        return f"unknown proposal id {self.args[0]!r}"


class InvalidTransition(ValueError):
    """A decision that does not follow from the proposal's state (e.g. accept twice)."""


#: What each outcome may follow, by the proposal's current state.
_ALLOWED_FROM: dict[Outcome, frozenset[ProposalState]] = {
    Outcome.ACCEPTED: frozenset({ProposalState.PENDING}),
    Outcome.PARTLY_ACCEPTED: frozenset({ProposalState.PENDING}),
    Outcome.REJECTED: frozenset({ProposalState.PENDING}),
    Outcome.AUTO_APPLIED: frozenset({ProposalState.PENDING}),
    Outcome.SUPPRESSED: frozenset({ProposalState.PENDING}),
    Outcome.EXPIRED: frozenset({ProposalState.PENDING}),
    Outcome.CORRECTED: frozenset({ProposalState.ACCEPTED, ProposalState.AUTO_APPLIED}),
    Outcome.REWRITTEN: frozenset({ProposalState.REJECTED}),
}

_STATE_AFTER: dict[Outcome, ProposalState] = {
    Outcome.ACCEPTED: ProposalState.ACCEPTED,
    Outcome.PARTLY_ACCEPTED: ProposalState.ACCEPTED,  # the landed hunks may be corrected
    Outcome.REJECTED: ProposalState.REJECTED,
    Outcome.AUTO_APPLIED: ProposalState.AUTO_APPLIED,
    Outcome.SUPPRESSED: ProposalState.SUPPRESSED,
    Outcome.EXPIRED: ProposalState.EXPIRED,
    Outcome.CORRECTED: ProposalState.CORRECTED,
}
#: Public name for the verifier and the state checks (state is derived from the log).
STATE_AFTER = _STATE_AFTER
_STATE_OUTCOMES = state_outcomes(_STATE_AFTER)
_LAST_STATE_SUBQUERY = (
    "SELECT d.outcome FROM decisions d WHERE d.proposal_id = proposals.id AND d.outcome IN "
    f"({','.join('?' * len(_STATE_OUTCOMES))}) ORDER BY d.seq DESC LIMIT 1"
)
_LAST_STATE_SQL = (
    "SELECT outcome FROM decisions WHERE proposal_id = ? AND outcome IN "
    f"({','.join('?' * len(_STATE_OUTCOMES))}) ORDER BY seq DESC LIMIT 1"
)


def check_store_file(path: Path) -> None:
    """Refuse files that are not SQLite at all, before SQLite gets a chance to touch them.

    Only call this while no connection of this process has the file open (see `_claim`):
    closing any descriptor of a file drops every POSIX lock this process holds on it,
    SQLite's included, and then another process may delete the live WAL.
    """
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb") as f:
        magic = f.read(len(SQLITE_MAGIC))
    if magic != SQLITE_MAGIC:
        raise StoreError(
            f"{path} is not a SQLite database (corrupted, or some other file); "
            "Tether will not touch it. Move it aside to start a new store."
        )


#: Store files this process has open through SQLite, by real path, with a count of holders.
_held: dict[str, int] = {}
_held_lock = threading.Lock()


def _claim(path: Path, *, check_header: bool = True) -> str:
    """Note that this process is about to open `path`; check its header if nobody holds it.

    The raw header read happens only while no connection of this process has the file, and
    under the same lock that claims it, so it can never drop a live connection's locks.
    """
    key = os.path.realpath(path)
    with _held_lock:
        if check_header and not _held.get(key):
            check_store_file(path)
        _held[key] = _held.get(key, 0) + 1
    return key


def _release(key: str) -> None:
    with _held_lock:
        count = _held.get(key, 0) - 1
        if count > 0:
            _held[key] = count
        else:
            _held.pop(key, None)


class DecisionStore:
    """Async access to one workspace's store. Use `await DecisionStore.open(path)`."""

    def __init__(self, path: Path, conn: aiosqlite.Connection, claim: str | None = None) -> None:
        self.path = path
        self._db = conn
        self._lock = asyncio.Lock()  # one write transaction at a time on this connection
        self._claim = claim
        self._key: StoreKey | None = None
        self._store_id = ""
        self.checkpoint_every = CHECKPOINT_EVERY
        self._checkpointed = 0  # the highest row this connection knows a checkpoint for
        self._unanchored = False  # rows appended here since this connection's last checkpoint
        self._appended: DecisionRecord | None = None  # the row the open transaction appended
        self._own_seq = 0  # the last row this connection appended

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    async def open(
        cls, path: Path, *, create: bool = True, checkpoint_every: int = CHECKPOINT_EVERY
    ) -> DecisionStore:
        """Open (or create) a store; `checkpoint_every` decisions get a signed checkpoint."""
        path = Path(path)
        claim = _claim(path)
        try:
            if not path.exists():
                if not create:
                    raise StoreError(f"no Tether store at {path}")
                path.parent.mkdir(parents=True, exist_ok=True)
            try:
                conn = await aiosqlite.connect(
                    path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
                )
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open {path}: {exc}") from exc
        except BaseException:
            _release(claim)
            raise
        store = cls(path, conn, claim)
        store.checkpoint_every = max(1, checkpoint_every)
        try:
            await store._setup()
        except BaseException:
            await store.close()
            raise
        return store

    async def _setup(self) -> None:
        try:
            version = await self._inspect()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path} is corrupted or not a database ({exc}); Tether will not touch it."
                " Move it aside to start a new store."
            ) from exc
        db = self._db
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=FULL")
        await db.execute("PRAGMA foreign_keys=ON")
        self._key = await asyncio.to_thread(self._load_key, version)
        await db.create_function(_HASH_FUNCTION, 2, row_hash, deterministic=True)
        await db.create_function(_SEAL_FUNCTION, 1, self._key.sealer(), deterministic=True)
        if version < SCHEMA_VERSION:
            await self._migrate(version)
        await db.execute(_HEAD_TRIGGER)
        meta = dict(await db.execute_fetchall("SELECT key, value FROM meta"))
        if meta.get(verifier.KEY_CHECK) != self._key.seal(verifier.KEY_CHECK_MESSAGE):
            raise StoreError(
                f"{key_path(self.path)} is not the key {self.path} was sealed with (replaced?);"
                " restore the original key file from a backup"
            )
        self._store_id = meta.get("store_id", "")
        latest = await asyncio.to_thread(self._latest_checkpoint_quietly)
        self._checkpointed = latest.seq if latest else 0

    def _load_key(self, version: int) -> StoreKey:
        """The store's key; created with a new store, or when an unsealed store is upgraded."""
        path = key_path(self.path)
        try:
            if version >= 2:
                key = load_key(path)
                if key is None:
                    raise StoreError(
                        f"{self.path} is sealed with a key that is missing ({path}). Restore "
                        "that file from a backup: without it nobody can tell whether the log "
                        "was changed. To start over, move the store and its .checkpoints aside."
                    )
                return key
            return load_or_create_key(path)
        except StoreKeyError as exc:
            raise StoreError(str(exc)) from exc

    def _latest_checkpoint_quietly(self) -> cps.Checkpoint | None:
        try:
            return cps.latest(cps.checkpoint_path(self.path))
        except (cps.CheckpointError, OSError) as exc:
            log.warning("cannot read the checkpoint file: %s (tether verify says more)", exc)
            return None

    async def _inspect(self) -> int:
        """Schema version of an existing store (0 when new); refuse anything not ours."""
        db = self._db
        await db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        tables = {
            r[0]
            for r in await db.execute_fetchall("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if tables and "meta" not in tables:
            raise StoreError(
                f"{self.path} is a SQLite database that Tether did not create "
                f"(tables: {', '.join(sorted(tables))}); refusing to use or change it"
            )
        if "meta" not in tables:
            return 0
        meta = dict(await db.execute_fetchall("SELECT key, value FROM meta"))
        if meta.get("app") != APP_ID:
            raise StoreError(f"{self.path} belongs to another application; not touching it")
        version = int(meta.get("schema_version", 0))
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema {version}, newer than this Tether ({SCHEMA_VERSION});"
                " upgrade Tether"
            )
        check = await db.execute_fetchall("PRAGMA quick_check")
        if not check or check[0][0] != "ok":
            raise StoreError(f"{self.path} failed SQLite's integrity check: {check[0][0]}")
        return version

    async def _migrate(self, current: int) -> None:
        async with self._write() as db:
            # Re-read under the write lock: another process may have migrated meanwhile.
            has_meta = await db.execute_fetchall(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
            )
            if has_meta:
                rows = await db.execute_fetchall(
                    "SELECT value FROM meta WHERE key='schema_version'"
                )
                current = int(rows[0][0]) if rows else 0
            for number in range(current, SCHEMA_VERSION):
                for statement in _split_sql(MIGRATIONS[number]):
                    await db.execute(statement)
            await db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('app', ?), ('schema_version', ?)",
                (APP_ID, str(SCHEMA_VERSION)),
            )
            await db.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('head_hash', ?), ('head_seq', '0'),"
                " ('created_at', ?)",
                (GENESIS_HASH, utcnow()),
            )
            if current < 2:
                await self._seal_existing(db)

    async def _seal_existing(self, db: aiosqlite.Connection) -> None:
        """Upgrading to seals: seal what is there now (a new store: just the empty head)."""
        assert self._key is not None
        key = self._key
        await db.execute(
            f"UPDATE decisions SET seal = {_SEAL_FUNCTION}('row:' || seq || ':' || hash)"
        )
        rows = await db.execute_fetchall(
            "SELECT id, kind, class_key, created_at, updated_at, votes, active, body "
            "FROM memory_items"
        )
        for row in rows:
            await db.execute(
                "UPDATE memory_items SET seal = ? WHERE id = ?",
                (key.seal(memory_seal_message(tuple(row))), row[0]),
            )
        last = await db.execute_fetchall(
            "SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1"
        )
        seq, digest = (last[0][0], last[0][1]) if last else (0, GENESIS_HASH)
        await db.execute("UPDATE meta SET value = ? WHERE key = ?", (digest, "head_hash"))
        await db.execute("UPDATE meta SET value = ? WHERE key = ?", (str(seq), "head_seq"))
        public_key = await asyncio.to_thread(lambda: key.public_key)
        await db.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('head_seal', ?), (?, ?), "
            "('store_id', coalesce((SELECT value FROM meta WHERE key = 'store_id'), ?)), "
            "('public_key', ?), ('key_id', ?)",
            (
                key.seal(head_seal_message(seq, digest)),
                verifier.KEY_CHECK,
                key.seal(verifier.KEY_CHECK_MESSAGE),
                uuid.uuid4().hex,
                public_key,
                key.key_id,
            ),
        )

    async def close(self) -> None:
        """Close; rows appended through this store since its last checkpoint get one."""
        if self._unanchored:
            try:
                await self.checkpoint("shutdown")
            except (StoreError, OSError, sqlite3.Error, cps.CheckpointError) as exc:
                log.warning("no checkpoint at shutdown: %s", exc)
        try:
            await self._db.close()
        finally:
            if self._claim is not None:
                _release(self._claim)
                self._claim = None

    async def __aenter__(self) -> DecisionStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction holding SQLite's write lock from the start; commit or roll back."""
        async with self._lock:
            db = self._db
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
        if record.seq // every > self._checkpointed // every:
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
        if self._key is None:
            raise StoreError(f"{self.path} is not open")
        seq, digest = at if at is not None else await self.head()
        cp = await asyncio.to_thread(
            cps.append,
            cps.checkpoint_path(self.path),
            self._key,
            store_id=self._store_id,
            seq=seq,
            head_hash=digest,
            reason=reason,
        )
        self._checkpointed = max(self._checkpointed, cp.seq)
        if cp.seq >= self._own_seq:
            self._unanchored = False
        return cp

    async def latest_checkpoint(self) -> cps.Checkpoint | None:
        return await asyncio.to_thread(cps.latest, cps.checkpoint_path(self.path))

    # ------------------------------------------------------------------ decisions
    async def _append(self, db: aiosqlite.Connection, content: DecisionContent) -> DecisionRecord:
        """Chain one row in one statement; inside a `_write` block or as its own transaction."""
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

    async def _logged_state(self, db: aiosqlite.Connection, proposal_id: str) -> ProposalState:
        """A proposal's state as the log says (its last state-changing row)."""
        rows = await db.execute_fetchall(_LAST_STATE_SQL, (proposal_id, *_STATE_OUTCOMES))
        state = state_after(rows[0][0], _STATE_AFTER) if rows else None
        if state is None:  # a proposal row with no `proposed` row was not made by Tether
            raise UnknownProposal(proposal_id)
        return state

    async def add_proposal(
        self, proposal: Proposal, *, actor: Actor = Actor.SYSTEM
    ) -> DecisionRecord:
        """Store a proposal and its `proposed` row in one transaction."""
        content = DecisionContent(
            ts=utcnow(),
            outcome=Outcome.PROPOSED,
            actor=actor,
            proposal_id=proposal.id,
            class_key=proposal.class_key,
            path=proposal.path,
            uri=proposal.uri,
            model=proposal.model,
            adapter_version=proposal.adapter_version,
            before=proposal.original,
            after=proposal.proposed,
            data={"task": proposal.task, "role": proposal.role, "risk": proposal.risk},
        )
        async with self._write() as db:
            await db.execute(
                "INSERT INTO proposals(id, created_at, uri, path, task, class_key, model, "
                "adapter_version, state, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    proposal.id,
                    proposal.created_at,
                    proposal.uri,
                    proposal.path,
                    proposal.task,
                    proposal.class_key,
                    proposal.model,
                    proposal.adapter_version,
                    proposal.state.value,
                    proposal.model_dump_json(),
                ),
            )
            return await self._append(db, content)

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
        """Append one decision; returns only once it is durable.

        For a proposal, the transition is checked against its current state and the
        proposal's state is updated in the same transaction. A correction back to the
        proposal's original text (the user undid the edit) is marked `data["reverted"]`, so
        every reader of the log (the profile first) can tell an undo from a fix.
        """
        async with self._write() as db:
            proposal: Proposal | None = None
            if proposal_id is not None:
                rows = await db.execute_fetchall(
                    "SELECT body, state FROM proposals WHERE id = ?", (proposal_id,)
                )
                if not rows:
                    raise UnknownProposal(proposal_id)
                proposal = Proposal.model_validate_json(rows[0][0])
                state = await self._logged_state(db, proposal_id)
                allowed = _ALLOWED_FROM.get(outcome)
                if allowed is not None and state not in allowed:
                    raise InvalidTransition(
                        f"proposal {proposal_id} is {state.value}; cannot record {outcome.value}"
                    )
                if outcome == Outcome.CORRECTED and after == proposal.original:
                    data = {**(data or {}), "reverted": True}
            content = DecisionContent(
                ts=utcnow(),
                outcome=outcome,
                actor=actor,
                proposal_id=proposal_id,
                class_key=class_key or (proposal.class_key if proposal else None),
                path=proposal.path if proposal else None,
                uri=proposal.uri if proposal else None,
                model=proposal.model if proposal else None,
                adapter_version=proposal.adapter_version if proposal else None,
                reason=reason,
                before=before,
                after=after,
                hunks=list(hunks) if hunks is not None else None,
                candidate=candidate,
                data=data or {},
            )
            record = await self._append(db, content)
            if proposal is not None and outcome in _STATE_AFTER:
                new_state = _STATE_AFTER[outcome]
                proposal.state = new_state
                await db.execute(
                    "UPDATE proposals SET state = ?, body = ? WHERE id = ?",
                    (new_state.value, proposal.model_dump_json(), proposal_id),
                )
            return record

    async def head(self) -> tuple[int, str]:
        """The log's last row (seq, hash), read from the rows: an edited meta head, which
        `verify` reports, cannot make readers replay fewer rows."""
        rows = await self._db.execute_fetchall(
            "SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1"
        )
        return (rows[0][0], rows[0][1]) if rows else (0, GENESIS_HASH)

    async def decisions(
        self, *, after_seq: int = 0, until_seq: int | None = None
    ) -> list[DecisionRecord]:
        """All decision rows in chain order (for rebuilding the profile and extracting signals)."""
        sql = "SELECT seq, body, prev_hash, hash FROM decisions WHERE seq > ?"
        args: list[Any] = [after_seq]
        if until_seq is not None:
            sql += " AND seq <= ?"
            args.append(until_seq)
        rows = await self._db.execute_fetchall(sql + " ORDER BY seq", args)
        return [_decision(r) for r in rows]

    async def decisions_for(self, proposal_id: str) -> list[DecisionRecord]:
        rows = await self._db.execute_fetchall(
            "SELECT seq, body, prev_hash, hash FROM decisions WHERE proposal_id = ? ORDER BY seq",
            (proposal_id,),
        )
        return [_decision(r) for r in rows]

    async def history(
        self, flt: HistoryFilter | None = None, *, offset: int = 0, limit: int = 50
    ) -> HistoryPage:
        """Newest first, filtered and paged."""
        flt = flt or HistoryFilter()
        where, args = _history_where(flt)
        total = (await self._db.execute_fetchall(f"SELECT count(*) FROM decisions{where}", args))[
            0
        ][0]
        rows = await self._db.execute_fetchall(
            f"SELECT seq, body, prev_hash, hash FROM decisions{where} "
            "ORDER BY seq DESC LIMIT ? OFFSET ?",
            [*args, limit, offset],
        )
        return HistoryPage(
            items=[_decision(r) for r in rows], total=total, offset=offset, limit=limit
        )

    async def verify(self, *, against: Path | None = None) -> VerifyResult:
        """Recompute the chain in a separate read-only connection, off the event loop.

        The header check is skipped: this process holds the file open through SQLite, and
        closing any other descriptor of it (a plain `open()`) would drop SQLite's POSIX locks,
        letting another process delete the WAL under this connection.
        """
        return await asyncio.to_thread(verify_file, self.path, check_header=False, against=against)

    # ------------------------------------------------------------------ proposals
    async def get_proposal(self, proposal_id: str) -> Proposal:
        """The proposal, its state as the log says (the table's copy is not trusted)."""
        rows = await self._db.execute_fetchall(
            "SELECT body FROM proposals WHERE id = ?", (proposal_id,)
        )
        if not rows:
            raise UnknownProposal(proposal_id)
        proposal = Proposal.model_validate_json(rows[0][0])
        proposal.state = await self._logged_state(self._db, proposal_id)
        return proposal

    async def proposals(
        self, *, state: ProposalState | None = None, uri: str | None = None, limit: int = 500
    ) -> list[Proposal]:
        sql, args = "SELECT body FROM proposals WHERE 1=1", []
        if state is not None:
            sql += " AND state = ?"
            args.append(state.value)
        if uri is not None:
            sql += " AND uri = ?"
            args.append(uri)
        # The state column narrows the search; the log has the last word on each proposal.
        sql = sql.replace("SELECT body", f"SELECT body, ({_LAST_STATE_SUBQUERY}) AS logged", 1)
        rows = await self._db.execute_fetchall(
            sql + " ORDER BY created_at LIMIT ?", [*_STATE_OUTCOMES, *args, limit]
        )
        out: list[Proposal] = []
        for body, logged in rows:
            actual = state_after(logged, _STATE_AFTER) if logged else None
            if actual is None or (state is not None and actual != state):
                continue
            proposal = Proposal.model_validate_json(body)
            proposal.state = actual
            out.append(proposal)
        return out

    # ------------------------------------------------------------------ pins
    async def set_pin(
        self, class_key: str, mode: str | None, *, reason: str | None = None
    ) -> DecisionRecord:
        """Pin a class ("always_ask" / "never_auto"), or unpin with mode None; logged."""
        async with self._write() as db:
            if mode is None:
                await db.execute("DELETE FROM pins WHERE class_key = ?", (class_key,))
            else:
                await db.execute(
                    "INSERT OR REPLACE INTO pins(class_key, mode, created_at) VALUES (?, ?, ?)",
                    (class_key, mode, utcnow()),
                )
            return await self._append(
                db,
                DecisionContent(
                    ts=utcnow(),
                    outcome=Outcome.PINNED,
                    actor=Actor.USER,
                    class_key=class_key,
                    reason=reason,
                    data={"mode": mode},
                ),
            )

    async def pins(self) -> dict[str, str]:
        """Pins folded from the log's `pinned` rows; the pins table is only a mirror."""
        return fold_pins(list(await self._db.execute_fetchall(PINS_SQL)))

    # ------------------------------------------------------------------ adapters
    async def put_adapter(self, row: AdapterRow) -> None:
        async with self._write() as db:
            await db.execute(
                "INSERT OR REPLACE INTO adapters(version, created_at, parent, status, path, body) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    row.version,
                    row.created_at,
                    row.parent,
                    row.status,
                    row.path,
                    row.model_dump_json(),
                ),
            )

    async def adapters(self) -> list[AdapterRow]:
        rows = await self._db.execute_fetchall(
            "SELECT body FROM adapters ORDER BY CAST(substr(version, 2) AS INTEGER)"
        )
        return [AdapterRow.model_validate_json(r[0]) for r in rows]

    async def active_adapter(self) -> AdapterRow | None:
        rows = await self._db.execute_fetchall(
            "SELECT body FROM adapters WHERE status = 'active' LIMIT 1"
        )
        return AdapterRow.model_validate_json(rows[0][0]) if rows else None

    async def activate_adapter(
        self, version: str | None, decision: DecisionContent
    ) -> DecisionRecord:
        """Make `version` the active adapter (None: the base model) and log it, atomically."""
        async with self._write() as db:
            rows = await db.execute_fetchall("SELECT body FROM adapters")
            found = False
            for (body,) in rows:
                row = AdapterRow.model_validate_json(body)
                if row.version == version:
                    row.status, found = "active", True
                elif row.status == "active":
                    row.status = "retired"
                else:
                    continue
                await db.execute(
                    "UPDATE adapters SET status = ?, body = ? WHERE version = ?",
                    (row.status, row.model_dump_json(), row.version),
                )
            if version is not None and not found:
                raise KeyError(f"no adapter {version}")
            return await self._append(db, decision)

    async def append(self, content: DecisionContent) -> DecisionRecord:
        """Append a row that is not about a proposal (training outcomes, system events).

        A single INSERT in autocommit mode: SQLite takes the write lock before it reads the
        head (as BEGIN IMMEDIATE would) and commits, durably, before the statement returns.
        """
        async with self._lock:
            try:
                record = await self._append(self._db, content)
            except sqlite3.Error as exc:
                self._appended = None
                if self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        await self._db.execute("ROLLBACK")
                raise StoreWriteError(f"write to {self.path} failed: {exc}") from exc
        await self._after_commit()
        return record

    # ------------------------------------------------------------------ profile snapshots
    def _sealing(self) -> StoreKey:
        if self._key is None:
            raise StoreError(f"{self.path} is not open")
        return self._key

    async def _hash_at(self, db: aiosqlite.Connection, seq: int) -> str | None:
        if seq <= 0:
            return ""
        rows = await db.execute_fetchall("SELECT hash FROM decisions WHERE seq = ?", (seq,))
        return rows[0][0] if rows else None

    async def save_profile_snapshot(self, head_seq: int, body: dict[str, Any]) -> None:
        """Save a snapshot sealed over its content and the log row it was taken at."""
        key = self._sealing()
        text = json.dumps(body)
        async with self._write() as db:
            # A snapshot past the log's end cannot be tied to a row: sealed over no hash, it
            # never matches on reading, so the profile replays the log instead.
            at = await self._hash_at(db, head_seq) or ""
            await db.execute(
                "INSERT INTO profile_snapshots(created_at, head_seq, body, seal) "
                "VALUES (?, ?, ?, ?)",
                (utcnow(), head_seq, text, key.seal(snapshot_seal_message(head_seq, at, text))),
            )
            # Keep the last 20; the log can always rebuild older ones.
            await db.execute(
                "DELETE FROM profile_snapshots WHERE id NOT IN "
                "(SELECT id FROM profile_snapshots ORDER BY id DESC LIMIT 20)"
            )

    async def latest_profile_snapshot(self) -> ProfileSnapshot | None:
        """The newest snapshot whose seal holds against its content and the log; else None
        (the profile then replays the log, so an edited snapshot never steers the policy)."""
        key = self._sealing()
        rows = await self._db.execute_fetchall(
            "SELECT id, created_at, head_seq, body, seal FROM profile_snapshots "
            "ORDER BY id DESC LIMIT 1"
        )
        if not rows:
            return None
        sid, created, head_seq, text, seal = rows[0]
        at = await self._hash_at(self._db, head_seq)  # None: past the log's end
        if at is None or seal != key.seal(snapshot_seal_message(head_seq, at, text)):
            log.warning(
                "profile snapshot #%s does not match its seal (changed outside Tether, or the "
                "log changed under it); replaying the log instead",
                sid,
            )
            return None
        return ProfileSnapshot(id=sid, created_at=created, head_seq=head_seq, body=json.loads(text))

    # ------------------------------------------------------------------ memory items
    async def put_memory(self, item: MemoryRow) -> None:
        """Save a memory item, sealed: one edited outside Tether is not used."""
        key = self._sealing()
        values = (
            item.id,
            item.kind,
            item.class_key,
            item.created_at,
            item.updated_at,
            item.votes,
            int(item.active),
            json.dumps(item.body),
        )
        async with self._write() as db:
            await db.execute(
                "INSERT OR REPLACE INTO memory_items(id, kind, class_key, created_at, updated_at, "
                "votes, active, body, seal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, key.seal(memory_seal_message(values))),
            )

    async def memory(
        self, *, kind: str | None = None, class_key: str | None = None, active_only: bool = True
    ) -> list[MemoryRow]:
        sealer = self._sealing().sealer()
        sql, args = (
            "SELECT id, kind, class_key, created_at, updated_at, votes, active, body, seal "
            "FROM memory_items WHERE 1=1",
            [],
        )
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        if class_key is not None:
            sql += " AND class_key = ?"
            args.append(class_key)
        if active_only:
            sql += " AND active = 1"
        rows = await self._db.execute_fetchall(sql + " ORDER BY created_at", args)
        kept = [r for r in rows if r[8] == sealer(memory_seal_message(tuple(r[:8])))]
        if len(kept) < len(rows):
            log.warning(
                "%d memory item(s) do not match their seal (changed outside Tether); not used",
                len(rows) - len(kept),
            )
        return [
            MemoryRow(
                id=r[0],
                kind=r[1],
                class_key=r[2],
                created_at=r[3],
                updated_at=r[4],
                votes=r[5],
                active=bool(r[6]),
                body=json.loads(r[7]),
            )
            for r in kept
        ]

    async def delete_memory(self, item_id: str) -> bool:
        async with self._write() as db:
            cur = await db.execute("DELETE FROM memory_items WHERE id = ?", (item_id,))
            return cur.rowcount > 0


# ---------------------------------------------------------------------- helpers
def _decision(row: Sequence[Any]) -> DecisionRecord:
    seq, body, prev_hash, digest = row
    return DecisionRecord(seq=seq, prev_hash=prev_hash, hash=digest, **json.loads(body))


def _history_where(flt: HistoryFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if flt.since:
        clauses.append("ts >= ?")
        args.append(flt.since)
    if flt.until:
        clauses.append("ts < ?")
        args.append(flt.until)
    if flt.path:
        if flt.path.endswith("/"):
            clauses.append("substr(path, 1, ?) = ?")
            args += [len(flt.path), flt.path]
        else:
            clauses.append("path = ?")
            args.append(flt.path)
    for column in ("class_key", "model", "adapter_version", "proposal_id"):
        value = getattr(flt, column)
        if value is not None:
            clauses.append(f"{column} = ?")
            args.append(value)
    if flt.actor is not None:
        clauses.append("actor = ?")
        args.append(flt.actor.value)
    if flt.outcome:
        clauses.append(f"outcome IN ({','.join('?' * len(flt.outcome))})")
        args += [o.value for o in flt.outcome]
    if flt.search:
        clauses.append("instr(lower(body), lower(?)) > 0")
        args.append(flt.search)
    return ((" WHERE " + " AND ".join(clauses)) if clauses else ""), args


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def verify_file(
    path: Path, *, check_header: bool = True, against: Path | None = None
) -> VerifyResult:
    """Verify a store file without the async machinery (used by the CLI and benchmarks).

    Checks the chain, its seals, the checkpoint file, adapters' lineages and the state
    kept outside the chain; `against` adds checkpoints a user kept elsewhere
    (`tether verify --against FILE`; raises `verify.VerifyInputError` when unreadable).
    The raw header check is skipped where this process already has the file open
    (`check_header=False` says so outright; see `verify`).
    """
    extra = [(str(against), verifier.read_against(against))] if against is not None else None
    claim = _claim(path, check_header=check_header)
    try:
        conn = verifier.open_readonly(path)
        try:
            return verifier.verify_connection(conn, path, against=extra)
        finally:
            conn.close()
    finally:
        _release(claim)


__all__ = [
    "CHECKPOINT_EVERY",
    "STATE_AFTER",
    "TERMINAL",
    "DecisionStore",
    "InvalidTransition",
    "StoreError",
    "StoreWriteError",
    "UnknownProposal",
    "verify_file",
]
