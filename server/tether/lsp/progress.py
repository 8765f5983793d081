"""Work-done progress: the editor's progress bar for agent runs and training.

The client's own token is used when the request carried one; otherwise, when the client
supports it, the server creates one. Cancelling the bar (window/workDoneProgress/cancel)
sets the same event that stops the work.
"""

from __future__ import annotations

import asyncio
import contextlib
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
    ) -> WorkDone:
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
                    title=title, message=message, cancellable=cancellable, percentage=0
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
