"""Reading the log: rows in chain order, a proposal's rows, the filtered history."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tether.decisions.log import ChainedLog
from tether.decisions.models import DecisionRecord, HistoryFilter, HistoryPage


class LogQueries:
    def __init__(self, chain: ChainedLog) -> None:
        self._chain = chain

    async def decisions(
        self, *, after_seq: int = 0, until_seq: int | None = None
    ) -> list[DecisionRecord]:
        """All decision rows in chain order (for rebuilding the profile and extracting signals)."""
        sql = "SELECT seq, body, prev_hash, hash FROM decisions WHERE seq > ?"
        args: list[Any] = [after_seq]
        if until_seq is not None:
            sql += " AND seq <= ?"
            args.append(until_seq)
        rows = await self._chain.db.execute_fetchall(sql + " ORDER BY seq", args)
        return [decision_of(r) for r in rows]

    async def decisions_for(self, proposal_id: str) -> list[DecisionRecord]:
        rows = await self._chain.db.execute_fetchall(
            "SELECT seq, body, prev_hash, hash FROM decisions WHERE proposal_id = ? ORDER BY seq",
            (proposal_id,),
        )
        return [decision_of(r) for r in rows]

    async def history(
        self, flt: HistoryFilter | None = None, *, offset: int = 0, limit: int = 50
    ) -> HistoryPage:
        """Newest first, filtered and paged."""
        db = self._chain.db
        where, args = history_where(flt or HistoryFilter())
        total = (await db.execute_fetchall(f"SELECT count(*) FROM decisions{where}", args))[0][0]
        rows = await db.execute_fetchall(
            f"SELECT seq, body, prev_hash, hash FROM decisions{where} "
            "ORDER BY seq DESC LIMIT ? OFFSET ?",
            [*args, limit, offset],
        )
        return HistoryPage(
            items=[decision_of(r) for r in rows], total=total, offset=offset, limit=limit
        )


def decision_of(row: Sequence[Any]) -> DecisionRecord:
    """A (seq, body, prev_hash, hash) row as a record."""
    seq, body, prev_hash, digest = row
    return DecisionRecord(seq=seq, prev_hash=prev_hash, hash=digest, **json.loads(body))


def history_where(flt: HistoryFilter) -> tuple[str, list[Any]]:
    """The WHERE clause (with its arguments) of a history filter; '' when it has none."""
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
