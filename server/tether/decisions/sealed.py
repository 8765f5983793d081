"""State kept beside the log and sealed with the store's key: profile snapshots (sealed
over their content and the log row they were taken at) and memory items. A row whose seal
does not hold was changed outside Tether and is not used: the profile replays the log
instead, memory rebuilds from it."""

from __future__ import annotations

import json
import logging
from typing import Any

from tether.core.types import utcnow
from tether.decisions.log import ChainedLog
from tether.decisions.models import MemoryRow, ProfileSnapshot
from tether.decisions.state import memory_seal_message, snapshot_seal_message

log = logging.getLogger(__name__)

#: Snapshots kept; the log can always rebuild older ones.
KEEP_SNAPSHOTS = 20


class SnapshotRepository:
    def __init__(self, chain: ChainedLog) -> None:
        self._chain = chain

    async def save(self, head_seq: int, body: dict[str, Any]) -> None:
        """Save a snapshot sealed over its content and the log row it was taken at."""
        key = self._chain.sealing()
        text = json.dumps(body)
        async with self._chain.write() as db:
            # A snapshot past the log's end cannot be tied to a row: sealed over no hash, it
            # never matches on reading, so the profile replays the log instead.
            at = await self._chain.hash_at(db, head_seq) or ""
            await db.execute(
                "INSERT INTO profile_snapshots(created_at, head_seq, body, seal) "
                "VALUES (?, ?, ?, ?)",
                (utcnow(), head_seq, text, key.seal(snapshot_seal_message(head_seq, at, text))),
            )
            await db.execute(
                "DELETE FROM profile_snapshots WHERE id NOT IN "
                f"(SELECT id FROM profile_snapshots ORDER BY id DESC LIMIT {KEEP_SNAPSHOTS})"
            )

    async def latest(self) -> ProfileSnapshot | None:
        """The newest snapshot whose seal holds against its content and the log; else None
        (the profile then replays the log, so an edited snapshot never steers the policy)."""
        key = self._chain.sealing()
        db = self._chain.db
        rows = await db.execute_fetchall(
            "SELECT id, created_at, head_seq, body, seal FROM profile_snapshots "
            "ORDER BY id DESC LIMIT 1"
        )
        if not rows:
            return None
        sid, created, head_seq, text, seal = rows[0]
        at = await self._chain.hash_at(db, head_seq)  # None: past the log's end
        if at is None or seal != key.seal(snapshot_seal_message(head_seq, at, text)):
            log.warning(
                "profile snapshot #%s does not match its seal (changed outside Tether, or the "
                "log changed under it); replaying the log instead",
                sid,
            )
            return None
        return ProfileSnapshot(id=sid, created_at=created, head_seq=head_seq, body=json.loads(text))


class MemoryRepository:
    def __init__(self, chain: ChainedLog) -> None:
        self._chain = chain

    async def put(self, item: MemoryRow) -> None:
        """Save a memory item, sealed: one edited outside Tether is not used."""
        key = self._chain.sealing()
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
        async with self._chain.write() as db:
            await db.execute(
                "INSERT OR REPLACE INTO memory_items(id, kind, class_key, created_at, updated_at, "
                "votes, active, body, seal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, key.seal(memory_seal_message(values))),
            )

    async def find(
        self, *, kind: str | None = None, class_key: str | None = None, active_only: bool = True
    ) -> list[MemoryRow]:
        """Items whose seal holds, oldest first."""
        sealer = self._chain.sealing().sealer()
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
        rows = await self._chain.db.execute_fetchall(sql + " ORDER BY created_at", args)
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

    async def delete(self, item_id: str) -> bool:
        async with self._chain.write() as db:
            cur = await db.execute("DELETE FROM memory_items WHERE id = ?", (item_id,))
            return cur.rowcount > 0
