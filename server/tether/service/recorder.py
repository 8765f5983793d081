"""Recording: every decision goes to the log, then to the profile and the memory, then to
the front end — in that order, so nobody hears of a decision that is not durable. The
profile and the memory both catch up from the log, so neither can miss a row."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from tether.core.types import Outcome
from tether.decisions import DecisionRecord
from tether.service.background import Background
from tether.service.components import Components
from tether.service.context import Context

log = logging.getLogger("tether.service")


class Recorder:
    def __init__(self, ctx: Context, components: Components, background: Background) -> None:
        self.ctx = ctx
        self.components = components
        self.background = background
        #: Called when a class of the profile just matured (training control: train now?).
        self.on_matured: Callable[[], None] | None = None

    async def record(self, outcome: Outcome, **kwargs: Any) -> DecisionRecord:
        record = await self.ctx.store.record(outcome, **kwargs)
        await self.observed(record)
        return record

    async def observed(self, record: DecisionRecord) -> None:
        """Let the profile and memory learn from a row, then tell the front end."""
        try:
            changes = await (await self.components.profile_store()).observe(record)
        except Exception:  # the log has the row; the profile can always replay it
            log.exception("profile did not observe row %s", record.seq)
            changes = []
        if self.on_matured is not None and any(c.kind == "profile" and c.mature for c in changes):
            self.on_matured()  # the profile just matured: see whether to train now
        if record.proposal_id is not None and record.outcome is not Outcome.PROPOSED:
            self.background.spawn(self._remember(), "memory", quiet=True)
        self.ctx.events.decision_recorded(record)

    async def _remember(self) -> None:
        """Memory learns what the log holds beyond what it knows: this row, and any
        earlier one whose update failed (so a failure is retried, never lost)."""
        await (await self.components.memory()).catch_up()
