"""Work-done progress: the editor's progress bar for agent runs and training.

The client's own token is used when the request carried one; otherwise, when the client
supports it, the server creates one. Cancelling the bar (window/workDoneProgress/cancel)
sets the same event that stops the work.

While a model writes its answer, `PartialAnswers` sends the answer so far as the bar's
report message (a few times a second at most), so the editor shows it growing instead of
a bare spinner.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer


class WorkDone:
    """One progress bar; a no-op when the client cannot show one."""

    def __init__(self, server: LanguageServer, token: lsp.ProgressToken | None) -> None:
        self.server = server
        self.token = token
        self.cancel = asyncio.Event()
        self._open = False

    @classmethod
    async def start(
        cls,
        server: LanguageServer,
        title: str,
        *,
        token: lsp.ProgressToken | None = None,
        message: str | None = None,
        cancellable: bool = True,
        percentage: int | None = 0,
    ) -> WorkDone:
        """Open the bar; `percentage=None` for work whose length is unknown (a model's
        answer), so editors show it as ongoing rather than stuck at 0 %."""
        if token is None and _supported(server):
            token = f"tether-{uuid.uuid4().hex}"
            try:
                await server.work_done_progress.create_async(token)
            except Exception:  # a client that refuses the token just gets no bar
                token = None
        bar = cls(server, token)
        if token is not None:
            server.work_done_progress.begin(
                token,
                lsp.WorkDoneProgressBegin(
                    title=title, message=message, cancellable=cancellable, percentage=percentage
                ),
            )
            bar._open = True
            future = server.work_done_progress.tokens.get(token)
            if future is not None:
                future.add_done_callback(lambda f: bar.cancel.set() if f.cancelled() else None)
        return bar

    def report(self, message: str | None = None, percentage: int | None = None) -> None:
        if self._open and self.token is not None:
            self.server.work_done_progress.report(
                self.token, lsp.WorkDoneProgressReport(message=message, percentage=percentage)
            )

    def end(self, message: str | None = None) -> None:
        if self._open and self.token is not None:
            self._open = False
            self.server.work_done_progress.end(self.token, lsp.WorkDoneProgressEnd(message=message))
            future = self.server.work_done_progress.tokens.pop(self.token, None)
            if future is not None and not future.done():
                with contextlib.suppress(Exception):
                    future.set_result(None)


def _supported(server: LanguageServer) -> bool:
    window = server.client_capabilities.window
    return bool(window and window.work_done_progress)


#: Report messages carry at most this much of the answer so far (its end, after "…").
MAX_PARTIAL_CHARS = 2000
#: At most one partial answer per this many seconds: the editor redraws, it is not flooded.
PARTIAL_INTERVAL = 0.25


def partial_message(text: str) -> str:
    """The report message for an answer so far: the text itself, its end when long."""
    if len(text) <= MAX_PARTIAL_CHARS:
        return text
    return "…" + text[-(MAX_PARTIAL_CHARS - 1) :]


class PartialAnswers:
    """A provider's partial-answer sink that reports on a progress bar, rate-limited.

    The provider may call it from its worker thread on every token; it only keeps the
    latest text and wakes the event loop once per interval: the first answer goes out at
    once, later ones at most every PARTIAL_INTERVAL, and `flush()` sends what is left
    before the bar ends. Nothing here ever waits on the model.
    """

    def __init__(
        self,
        bar: WorkDone,
        loop: asyncio.AbstractEventLoop | None = None,
        interval: float = PARTIAL_INTERVAL,
    ) -> None:
        self.bar = bar
        self.interval = interval
        self._loop = loop or asyncio.get_running_loop()
        self._lock = threading.Lock()
        self._latest: str | None = None
        self._scheduled = False
        self._closed = False
        self._sent: str | None = None
        self._last_sent = -interval
        self._timer: asyncio.TimerHandle | None = None
        self.reports = 0

    def __call__(self, text: str) -> None:
        """The sink: any thread, any rate."""
        with self._lock:
            if self._closed:
                return
            self._latest = text
            if self._scheduled:
                return
            self._scheduled = True
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody to tell
            self._loop.call_soon_threadsafe(self._plan)

    def _plan(self) -> None:
        due = self._last_sent + self.interval
        if self._loop.time() >= due:
            self._send()
        else:
            self._timer = self._loop.call_at(due, self._send)

    def _send(self) -> None:
        self._timer = None
        with self._lock:
            text, self._latest = self._latest, None
            self._scheduled = False
            if self._closed:
                return
        if text is None or text == self._sent or not text.strip():
            return
        self._sent = text
        self._last_sent = self._loop.time()
        self.reports += 1
        self.bar.report(message=partial_message(text))

    def flush(self) -> None:
        """Send the latest answer now (before the bar ends with the result)."""
        if self._timer is not None:
            self._timer.cancel()
        self._send()

    def close(self) -> None:
        """Drop what is pending; later calls from a generation still running are ignored."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        with self._lock:
            self._closed = True
            self._latest = None
