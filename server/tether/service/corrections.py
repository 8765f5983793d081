"""The correction watcher: after an accept (or a reject), watch the range for a while; if
the user rewrites it, that rewrite is recorded (corrected / rewritten) — the strongest
signal the user gives."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from tether.core.text import RangeError, offset_at
from tether.core.tracking import Edit, Span
from tether.core.types import Actor, Outcome, Proposal
from tether.decisions import DecisionRecord, InvalidTransition, StoreError
from tether.service.background import Background
from tether.service.context import Context
from tether.service.documents import DocumentMirror
from tether.service.errors import ServiceError
from tether.service.recorder import Recorder


@dataclass(eq=False)
class Watch:
    """An accepted or rejected range being watched for the user rewriting it."""

    proposal_id: str
    uri: str
    outcome: Outcome  # CORRECTED or REWRITTEN
    baseline: str  # text the range holds right after the decision
    span: Span | None  # None until the document shows the decision's text
    expected: str | None  # whole text that arms the watch
    start: int  # where the span starts once armed
    timer: asyncio.TimerHandle | None = None


class CorrectionWatcher:
    def __init__(
        self, ctx: Context, docs: DocumentMirror, recorder: Recorder, background: Background
    ) -> None:
        self.ctx = ctx
        self.docs = docs
        self.recorder = recorder
        self.background = background
        self.watches: list[Watch] = []

    def watch(
        self, proposal: Proposal, outcome: Outcome, baseline: str, expected: str | None
    ) -> None:
        window = self.ctx.settings.correction_window_seconds
        doc = self.docs.get(proposal.uri)
        if window <= 0 or doc is None or expected is None:
            return
        try:
            start = offset_at(expected, proposal.range.start)
        except RangeError:
            return
        watch = Watch(
            proposal_id=proposal.id,
            uri=proposal.uri,
            outcome=outcome,
            baseline=baseline,
            span=None,
            expected=expected,
            start=start,
        )
        self._arm(watch, doc.text)
        watch.timer = asyncio.get_running_loop().call_later(
            window,
            lambda: self.background.spawn(self.finish(watch), "recording a correction"),
        )
        self.watches.append(watch)

    @staticmethod
    def _arm(watch: Watch, text: str) -> None:
        """Start following the span once the document shows the decision's result."""
        if watch.span is None and text == watch.expected:
            end = watch.start + len(watch.baseline)
            watch.span = Span(
                watch.start,
                end,
                start_at_line_start=watch.start == 0 or text[watch.start - 1] == "\n",
                end_at_line_start=watch.baseline.endswith("\n"),
            )
            watch.expected = None

    def follow(self, uri: str, text: str, edits: Sequence[Edit]) -> None:
        for watch in self.watches:
            if watch.uri != uri:
                continue
            if watch.span is None:
                self._arm(watch, text)
                continue
            for edit in edits:
                watch.span.apply(edit)

    async def finish(self, watch: Watch) -> DecisionRecord | None:
        """End a watch; record the user's rewrite when there was one."""
        if watch not in self.watches:
            return None
        self.watches.remove(watch)
        if watch.timer is not None:
            watch.timer.cancel()
        doc = self.docs.get(watch.uri)
        if doc is None or watch.span is None or not watch.span.touched:
            return None
        final = watch.span.text(doc.text)
        if final == watch.baseline:
            return None
        try:
            return await self.recorder.record(
                watch.outcome,
                actor=Actor.USER,
                proposal_id=watch.proposal_id,
                before=watch.baseline,
                after=final,
                data={"window_seconds": self.ctx.settings.correction_window_seconds},
            )
        except InvalidTransition:
            return None

    async def finish_on(self, uri: str) -> None:
        """Saving or closing a document ends its correction windows early."""
        for watch in [w for w in self.watches if w.uri == uri]:
            await self.finish(watch)

    async def close(self) -> None:
        """Record what the pending windows saw (shutting down)."""
        for watch in list(self.watches):
            with contextlib.suppress(ServiceError, StoreError):
                await self.finish(watch)
