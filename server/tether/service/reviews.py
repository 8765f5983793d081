"""Review on save (`review_on_save`): after a save and a quiet moment, propose on the whole
document in the background; a newer save or an edit drops the older review."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from tether.core.text import full_lines
from tether.core.types import Range
from tether.service.background import Background
from tether.service.components import Components
from tether.service.context import Context
from tether.service.documents import DocumentMirror
from tether.service.errors import ServiceError, WorkCancelled
from tether.service.proposing import Proposing


@dataclass(eq=False)
class Review:
    """A review waiting out its debounce, or running; `cancel` drops it (a newer save)."""

    version: int | None
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class ReviewOnSave:
    def __init__(
        self,
        ctx: Context,
        docs: DocumentMirror,
        components: Components,
        proposing: Proposing,
        background: Background,
    ) -> None:
        self.ctx = ctx
        self.docs = docs
        self.components = components
        self.proposing = proposing
        self.background = background
        self.reviews: dict[str, Review] = {}

    def saved(self, uri: str) -> None:
        if self.ctx.settings.review_on_save and uri in self.docs:
            self._schedule(uri)

    def drop(self, uri: str, *, forget: bool = False) -> None:
        """An edit (the next save reviews the new text) or a close drops the review."""
        review = self.reviews.pop(uri, None) if forget else self.reviews.get(uri)
        if review is not None:
            review.cancel.set()

    def close(self) -> None:
        for review in self.reviews.values():
            review.cancel.set()

    def _schedule(self, uri: str) -> None:
        old = self.reviews.pop(uri, None)
        if old is not None:  # a newer save makes the older review stale
            old.cancel.set()
        review = Review(version=self.docs.version_of(uri))
        self.reviews[uri] = review
        review.task = self.background.spawn(self._review(uri, review), "review on save")

    async def _review(self, uri: str, review: Review) -> None:
        """Debounce, then propose on the whole document; a newer save or an edit drops it."""
        settings = self.ctx.settings
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(review.cancel.wait(), settings.review_debounce_ms / 1000)
        try:
            doc = self.docs.get(uri)
            task = self._task()
            if review.cancel.is_set() or doc is None or doc.version != review.version:
                return
            if task is None or not doc.text.strip():
                return
            lines = doc.text.split("\n")
            whole = full_lines(doc.text, Range.of(0, 0, len(lines) - 1, 0))
            req = self.proposing.request_for(uri, whole, task, version=doc.version)
            outcome = await self.proposing.propose(req, cancel=review.cancel)
            self.ctx.events.review_ready(uri, outcome)
        except WorkCancelled:
            return
        except ServiceError as exc:
            now = self.docs.get(uri)
            self.ctx.events.problem(
                f"the review of {now.path if now is not None else uri} failed: {exc}"
            )
        finally:
            if self.reviews.get(uri) is review:
                del self.reviews[uri]

    def _task(self) -> str | None:
        tasks = self.components.tasks()
        on_save = [t for t in tasks if "save" in t.when]
        chosen = on_save or tasks
        return chosen[0].name if chosen else None
