"""pygls' protocol with three changes Tether needs.

- Positions are always UTF-16: the core counts in UTF-16 code units, and pygls would
  otherwise pick the client's first preference (Neovim offers UTF-8 first).
- A request whose params do not fit the LSP types gets an InvalidParams error response
  (pygls would only log it, leaving the client waiting forever).
- The executeCommand request's workDoneToken is made visible to the command handler.
- `exit` over stdio ends the process at once: everything was made durable by `shutdown`
  (and every decision when it was recorded), and tearing down the interpreter's modules
  would only keep the editor waiting for most of a second.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Generator
from typing import Any

import attrs
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.io_ import StdoutWriter
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from tether.lsp.names import work_done_token

log = logging.getLogger(__name__)

INVALID_PARAMS = -32602


@attrs.define
class Malformed:
    """A message that could not be read as the LSP type its method requires."""

    method: str
    detail: str
    id: int | str | None = None


class TetherProtocol(LanguageServerProtocol):
    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "jsonrpc" in data and "method" in data:
                return Malformed(method=str(data["method"]), detail=_detail(exc), id=data.get("id"))
            raise

    def handle_message(self, message: Any) -> None:
        if isinstance(message, Malformed):
            text = f"Tether: malformed {message.method} message: {message.detail}"
            log.warning(text)
            if message.id is not None:
                self._send_response(
                    message.id, error=lsp.ResponseError(code=INVALID_PARAMS, message=text)
                )
            else:
                self._server.window_show_message(  # type: ignore[attr-defined]
                    lsp.ShowMessageParams(type=lsp.MessageType.Error, message=text)
                )
            return
        super().handle_message(message)

    @lsp_method(lsp.EXIT)
    def lsp_exit(self, *args: Any) -> Generator[Any, Any, None]:
        if not isinstance(self.writer, StdoutWriter):
            yield from super().lsp_exit(*args)
            return
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(0 if self._shutdown else 1)

    @lsp_method(lsp.INITIALIZE)
    def lsp_initialize(
        self, params: lsp.InitializeParams
    ) -> Generator[Any, Any, lsp.InitializeResult]:
        general = params.capabilities.general
        if general is not None and general.position_encodings is not None:
            general.position_encodings = (lsp.PositionEncodingKind.Utf16,)
        result = yield from super().lsp_initialize(params)
        execute = result.capabilities.execute_command_provider
        if execute is not None:
            execute.work_done_progress = True
        return result

    @lsp_method(lsp.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(
        self, params: lsp.ExecuteCommandParams
    ) -> Generator[Any, Any, Any]:
        work_done_token.set(params.work_done_token)
        return (yield from super().lsp_workspace__execute_command(params))


def _detail(exc: JsonRpcException) -> str:
    """The innermost reason a message failed to structure, in one line."""
    cause: BaseException | None = exc.__cause__
    seen = 0
    while cause is not None and seen < 10:
        inner = getattr(cause, "exceptions", None)
        if inner:
            cause = inner[0]
        elif cause.__cause__ is not None:
            cause = cause.__cause__
        else:
            break
        seen += 1
    text = str(cause) if cause is not None else str(exc)
    notes = getattr(cause, "__notes__", None)
    if notes:
        text = f"{notes[-1]}: {text}"
    return text.splitlines()[0] if text else "invalid params"
