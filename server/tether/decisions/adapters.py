"""Adapter rows: every trained adapter, its lineage and which one is active. Activation
and its logged row commit together, so the log always says which adapter answered."""

from __future__ import annotations

from tether.decisions.log import ChainedLog
from tether.decisions.models import AdapterRow, DecisionContent, DecisionRecord


class AdapterRepository:
    def __init__(self, chain: ChainedLog) -> None:
        self._chain = chain

    async def put(self, row: AdapterRow) -> None:
        async with self._chain.write() as db:
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

    async def all(self) -> list[AdapterRow]:
        """Oldest first (v1, v2, … by number)."""
        rows = await self._chain.db.execute_fetchall(
            "SELECT body FROM adapters ORDER BY CAST(substr(version, 2) AS INTEGER)"
        )
        return [AdapterRow.model_validate_json(r[0]) for r in rows]

    async def active(self) -> AdapterRow | None:
        rows = await self._chain.db.execute_fetchall(
            "SELECT body FROM adapters WHERE status = 'active' LIMIT 1"
        )
        return AdapterRow.model_validate_json(rows[0][0]) if rows else None

    async def activate(self, version: str | None, decision: DecisionContent) -> DecisionRecord:
        """Make `version` the active adapter (None: the base model) and log it, atomically."""
        async with self._chain.write() as db:
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
            return await self._chain.chain(db, decision)
