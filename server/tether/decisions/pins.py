"""Pins ("always_ask" / "never_auto" on a decision class): logged rows, folded from the log;
the pins table is only a mirror that `verify` checks."""

from __future__ import annotations

from tether.core.types import Actor, Outcome, utcnow
from tether.decisions.log import ChainedLog
from tether.decisions.models import DecisionContent, DecisionRecord
from tether.decisions.state import PINS_SQL, fold_pins


class PinRepository:
    def __init__(self, chain: ChainedLog) -> None:
        self._chain = chain

    async def set(
        self, class_key: str, mode: str | None, *, reason: str | None = None
    ) -> DecisionRecord:
        """Pin a class, or unpin it with mode None; logged in the same transaction."""
        async with self._chain.write() as db:
            if mode is None:
                await db.execute("DELETE FROM pins WHERE class_key = ?", (class_key,))
            else:
                await db.execute(
                    "INSERT OR REPLACE INTO pins(class_key, mode, created_at) VALUES (?, ?, ?)",
                    (class_key, mode, utcnow()),
                )
            return await self._chain.chain(
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

    async def all(self) -> dict[str, str]:
        """Pins folded from the log's `pinned` rows."""
        return fold_pins(list(await self._chain.db.execute_fetchall(PINS_SQL)))
