"""What the handlers see of the language server and of the editor session: interfaces.

`server.py` (the composition root) builds the server and its `Session`; every other module
of `lsp/` works against these types, so nothing imports `server` or `session` back and the
package has no import cycle.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pygls.lsp.server import LanguageServer

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from lsprotocol import types as lsp

    from tether.config import Settings
    from tether.service import TetherService


@dataclass
class Folder:
    """One workspace folder of the editor window, its settings and its service."""

    root: Path
    base: Settings  # files + environment
    settings: Settings  # base + editor overlays (last good)
    opening: asyncio.Task[TetherService] | None = None
    service: TetherService | None = None
    error: str | None = None


class Editor(Protocol):
    """The editor connection as handlers use it (`session.Session` implements it)."""

    server: Server
    folders: list[Folder]

    async def service_for(self, uri: str | None = None) -> TetherService: ...

    async def service_of_proposal(self, proposal_id: str) -> TetherService: ...

    def show(self, message: str, kind: lsp.MessageType = ...) -> None: ...

    def notify(self, method: str, params: Any) -> None: ...

    def publish(self, folder: Folder, uri: str) -> None: ...

    def spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any]: ...


class Server(LanguageServer):
    """pygls' server with Tether's session and lifecycle (`server.TetherServer`)."""

    session: Editor
    lifecycle: Any  # lifecycle.Lifecycle
