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
import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from tether.core.types import TERMINAL, Actor, Outcome, Proposal, ProposalState, utcnow
from tether.decisions.chain import canonical_json, row_hash, verify_connection
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

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 30_000

#: Registered on every store connection; the same function the verifier recomputes.
_HASH_FUNCTION = "tether_row_hash"

#: Per connection (TEMP), so rows that other programs insert do not move the recorded head.
_HEAD_TRIGGER = """
CREATE TEMP TRIGGER IF NOT EXISTS tether_move_head AFTER INSERT ON decisions
BEGIN
  UPDATE meta SET value = CASE key WHEN 'head_hash' THEN NEW.hash ELSE NEW.seq END
  WHERE key IN ('head_hash', 'head_seq');
END
"""

#: Read the head, hash, insert and move the head, all in one statement and one transaction.
_APPEND_SQL = f"""
INSERT INTO decisions(body, prev_hash, hash)
SELECT :body, value, {_HASH_FUNCTION}(value, :body) FROM meta WHERE key = 'head_hash'
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

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    async def open(cls, path: Path, *, create: bool = True) -> DecisionStore:
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
        if version < SCHEMA_VERSION:
            await self._migrate(version)
        await db.create_function(_HASH_FUNCTION, 2, row_hash, deterministic=True)
        await db.execute(_HEAD_TRIGGER)

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

    async def close(self) -> None:
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
                with contextlib.suppress(sqlite3.Error):
                    await db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreWriteError(f"write to {self.path} failed: {exc}") from exc
                raise

    # ------------------------------------------------------------------ decisions
    async def _append(self, db: aiosqlite.Connection, content: DecisionContent) -> DecisionRecord:
        """Chain one row in one statement; inside a `_write` block or as its own transaction."""
        fields = content.model_dump(mode="json")
        rows = await db.execute_fetchall(_APPEND_SQL, {"body": canonical_json(fields)})
        if not rows:
            raise StoreError(f"{self.path} has no chain head in its meta table")
        seq, prev, digest = rows[0]
        return DecisionRecord.model_validate(
            {**fields, "seq": seq, "prev_hash": prev, "hash": digest}
        )

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
                state = ProposalState(rows[0][1])
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
        meta = dict(
            await self._db.execute_fetchall(
                "SELECT key, value FROM meta WHERE key IN ('head_hash', 'head_seq')"
            )
        )
        return int(meta["head_seq"]), meta["head_hash"]

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

    async def verify(self) -> VerifyResult:
        """Recompute the chain in a separate read-only connection, off the event loop.

        The header check is skipped: this process holds the file open through SQLite, and
        closing any other descriptor of it (a plain `open()`) would drop SQLite's POSIX locks,
        letting another process delete the WAL under this connection.
        """
        return await asyncio.to_thread(verify_file, self.path, check_header=False)

    # ------------------------------------------------------------------ proposals
    async def get_proposal(self, proposal_id: str) -> Proposal:
        rows = await self._db.execute_fetchall(
            "SELECT body FROM proposals WHERE id = ?", (proposal_id,)
        )
        if not rows:
            raise UnknownProposal(proposal_id)
        return Proposal.model_validate_json(rows[0][0])

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
        rows = await self._db.execute_fetchall(sql + " ORDER BY created_at LIMIT ?", [*args, limit])
        return [Proposal.model_validate_json(r[0]) for r in rows]

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
        return dict(await self._db.execute_fetchall("SELECT class_key, mode FROM pins"))

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
                return await self._append(self._db, content)
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        await self._db.execute("ROLLBACK")
                raise StoreWriteError(f"write to {self.path} failed: {exc}") from exc

    # ------------------------------------------------------------------ profile snapshots
    async def save_profile_snapshot(self, head_seq: int, body: dict[str, Any]) -> None:
        async with self._write() as db:
            await db.execute(
                "INSERT INTO profile_snapshots(created_at, head_seq, body) VALUES (?, ?, ?)",
                (utcnow(), head_seq, json.dumps(body)),
            )
            # Keep the last 20; the log can always rebuild older ones.
            await db.execute(
                "DELETE FROM profile_snapshots WHERE id NOT IN "
                "(SELECT id FROM profile_snapshots ORDER BY id DESC LIMIT 20)"
            )

    async def latest_profile_snapshot(self) -> ProfileSnapshot | None:
        rows = await self._db.execute_fetchall(
            "SELECT id, created_at, head_seq, body FROM profile_snapshots ORDER BY id DESC LIMIT 1"
        )
        if not rows:
            return None
        r = rows[0]
        return ProfileSnapshot(id=r[0], created_at=r[1], head_seq=r[2], body=json.loads(r[3]))

    # ------------------------------------------------------------------ memory items
    async def put_memory(self, item: MemoryRow) -> None:
        async with self._write() as db:
            await db.execute(
                "INSERT OR REPLACE INTO memory_items(id, kind, class_key, created_at, updated_at, "
                "votes, active, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    item.id,
                    item.kind,
                    item.class_key,
                    item.created_at,
                    item.updated_at,
                    item.votes,
                    int(item.active),
                    json.dumps(item.body),
                ),
            )

    async def memory(
        self, *, kind: str | None = None, class_key: str | None = None, active_only: bool = True
    ) -> list[MemoryRow]:
        sql, args = (
            "SELECT id, kind, class_key, created_at, updated_at, votes, active, body "
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
            for r in rows
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


def verify_file(path: Path, *, check_header: bool = True) -> VerifyResult:
    """Verify a store file without the async machinery (used by the CLI and benchmarks).

    The raw header check is skipped where this process already has the file open
    (`check_header=False` says so outright; see `verify`).
    """
    claim = _claim(path, check_header=check_header)
    try:
        return _verify_claimed(path)
    finally:
        _release(claim)


def _verify_claimed(path: Path) -> VerifyResult:
    if not path.exists():
        raise StoreError(f"no Tether store at {path}")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        try:
            meta_ok = conn.execute("SELECT value FROM meta WHERE key='app'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path} is not a Tether store: {exc}") from exc
        if not meta_ok or meta_ok[0] != APP_ID:
            raise StoreError(f"{path} is not a Tether store")
        return verify_connection(conn)
    finally:
        conn.close()


__all__ = [
    "TERMINAL",
    "DecisionStore",
    "InvalidTransition",
    "StoreError",
    "StoreWriteError",
    "UnknownProposal",
    "verify_file",
]
