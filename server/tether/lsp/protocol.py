"""pygls' protocol with three changes Tether needs.

- Positions are always UTF-16: the core counts in UTF-16 code units, and pygls would
  otherwise pick the client's first preference (Neovim offers UTF-8 first).
- A request whose params do not fit the LSP types gets an InvalidParams error response
  (pygls would only log it, leaving the client waiting forever).
- The executeCommand request's workDoneToken is made visible to the command handler.
- `exit` ends the process at once (`tether.lsp.lifecycle`): everything was made durable
  by `shutdown` (and every decision when it was recorded), and tearing down the
  interpreter's modules would only keep the editor waiting for most of a second.
- A body that is not JSON gets JSON-RPC's Parse error (-32700) and one that is JSON but
  not a message Invalid Request (-32600), both with a null id, as the specification asks
  (pygls only logs them).
- didChange: as pygls applies each change to its workspace, the edit it made is noted in
  the text before it (the correction watcher follows spans through edits), so the service
  takes the workspace's text instead of keeping a second copy it applies changes to
  (`take_change`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator
from typing import Any
from urllib.parse import unquote

import attrs
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from tether.core.text import RangeError
from tether.core.tracking import Edit, edit_of, whole_text_edit
from tether.core.types import Range
from tether.lsp.names import work_done_token

log = logging.getLogger(__name__)

INVALID_PARAMS = -32602
PARSE_ERROR = -32700
INVALID_REQUEST = -32600


@attrs.define
class Malformed:
    """A message that could not be read as the LSP type its method requires."""

    method: str
    detail: str
    id: int | str | None = None


@attrs.define
class Changed:
    """What one didChange did to an open document: its text now (pygls' own string) and
    the edits, each in the text before it."""

    text: str
    edits: list[Edit]


class TetherProtocol(LanguageServerProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: By (uri, version): taken by the didChange handler, which runs after pygls applied
        #: the change (and perhaps later ones), so it cannot read the text before it itself.
        self._changes: dict[tuple[str, int], Changed] = {}

    def take_change(self, uri: str, version: int) -> Changed | None:
        return self._changes.pop((uri, version), None)

    @lsp_method(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: lsp.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, None]:
        ident = params.text_document
        doc = self.workspace.text_documents.get(unquote(ident.uri))
        if doc is None:  # not open: pygls reports it
            yield from super().lsp_text_document__did_change(params)
            return
        edits: list[Edit] = []
        for change in params.content_changes:
            before = doc.source
            self.workspace.update_text_document(ident, change)
            edit = _edit(before, change, doc.source)
            if edit is not None:
                edits.append(edit)
        self._changes[(ident.uri, ident.version)] = Changed(doc.source, edits)
        handler = self.fm.features.get(lsp.TEXT_DOCUMENT_DID_CHANGE)
        if handler is not None:
            yield handler, (params,), None

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "jsonrpc" in data and "method" in data:
                return Malformed(method=str(data["method"]), detail=_detail(exc), id=data.get("id"))
            raise

    def reply_unreadable(self, error: ValueError) -> bool:
        """Answer a body that is not JSON with Parse error; True when it was one."""
        if not isinstance(error, json.JSONDecodeError | UnicodeDecodeError):
            return False
        why = (
            f"{error.msg} at line {error.lineno} column {error.colno}"
            if isinstance(error, json.JSONDecodeError)
            else "it is not UTF-8"
        )
        self._reply_error(
            None,
            PARSE_ERROR,
            f"Parse error: the message body is not valid JSON ({why}); it was ignored. "
            "Send one JSON-RPC object per Content-Length frame.",
        )
        return True

    def _reply_error(self, msg_id: Any, code: int, text: str) -> None:
        log.warning("Tether: %s", text)
        self._send_data({"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": text}})

    def handle_message(self, message: Any) -> None:
        if not isinstance(message, Malformed) and not hasattr(message, "jsonrpc"):
            # a JSON array, number or string, or an object that is no JSON-RPC message
            msg_id = message.get("id") if isinstance(message, dict) else None
            self._reply_error(
                msg_id if isinstance(msg_id, int | str) else None,
                INVALID_REQUEST,
                "Invalid Request: the message is JSON but not a JSON-RPC 2.0 object "
                '(it needs "jsonrpc": "2.0" and a "method", or an "id" for a response); '
                "it was ignored.",
            )
            return
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
        lifecycle = getattr(self._server, "lifecycle", None)
        if lifecycle is None:  # not a TetherServer (never the case in `tether lsp`)
            yield from super().lsp_exit(*args)
            return
        lifecycle.exit_now(0 if self._shutdown else 1)
        yield from ()

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


def _edit(before: str, change: lsp.TextDocumentContentChangeEvent, after: str) -> Edit | None:
    """The edit one change made; a range pygls took but that is not in the text (it appends
    past the end) is seen as the whole-text edit that explains the result."""
    if not isinstance(change, lsp.TextDocumentContentChangePartial):
        return whole_text_edit(before, after)
    try:
        start, end = change.range.start, change.range.end
        rng = Range.of(start.line, start.character, end.line, end.character)
        return edit_of(before, rng, change.text)
    except RangeError:
        return whole_text_edit(before, after)


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
