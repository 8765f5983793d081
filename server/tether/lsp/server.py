"""The Tether language server: lifecycle, document sync, and the registration of features.

Start-up imports nothing heavy (no torch, transformers, trl, peft, datasets or litellm):
`initialize` answers at once and the workspace's store opens in the background. Models
load on the first proposal; training runs in a child process.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from tether import __version__
from tether.lsp import names
from tether.lsp.context import Server
from tether.lsp.errors import rpc
from tether.lsp.lifecycle import Lifecycle, serve_stdio, serve_tcp
from tether.lsp.protocol import TetherProtocol
from tether.lsp.session import Session

log = logging.getLogger(__name__)

INTERNAL_ERROR = -32603
CODE_ACTION_KINDS = [lsp.CodeActionKind.QuickFix, lsp.CodeActionKind.RefactorRewrite]


class TetherServer(Server):
    def __init__(self) -> None:
        super().__init__(
            "tether",
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
            protocol_cls=TetherProtocol,
            converter_factory=converter,
        )
        self.session = Session(self)
        self.lifecycle = Lifecycle(self)

    def report_server_error(self, error: Exception, source: Any) -> None:
        from pygls.exceptions import FeatureRequestError

        if source is FeatureRequestError:
            return  # the client already got an error response
        if isinstance(error, ValueError) and self.protocol.reply_unreadable(error):  # type: ignore[attr-defined]
            return  # a body that is not JSON (or not a JSON-RPC message) got its error reply
        self.window_show_message(
            lsp.ShowMessageParams(type=lsp.MessageType.Error, message=f"Tether: {error}")
        )


def converter() -> Any:
    """pygls' converter, except that custom messages keep their params as plain JSON.

    pygls turns the params of methods it has no type for into namedtuples; Tether's own
    requests validate plain dicts with pydantic instead.
    """
    from pygls.protocol import JsonRPCNotification, JsonRPCRequestMessage, default_converter

    conv = default_converter()
    conv.register_structure_hook(JsonRPCRequestMessage, lambda obj, cls: cls(**obj))
    conv.register_structure_hook(JsonRPCNotification, lambda obj, cls: cls(**obj))
    return conv


def _guarded(
    session: Session, what: str
) -> Callable[[Callable[..., Awaitable[None]]], Callable[..., Awaitable[None]]]:
    """Notifications have no response: report their failures as messages, keep serving."""

    def decorate(fn: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        @functools.wraps(fn)
        async def wrapper(params: Any) -> None:
            from tether.service import ServiceError

            try:
                await fn(params)
            except ServiceError as exc:
                session.show(f"Tether: {exc}", lsp.MessageType.Error)
            except Exception as exc:
                log.exception("%s failed", what)
                session.show(f"Tether: {what} failed: {exc}", lsp.MessageType.Error)

        return wrapper

    return decorate


def create_server() -> TetherServer:
    """The server with every feature registered; their implementations load on first use."""
    server = TetherServer()
    session = server.session

    @server.feature(lsp.INITIALIZE)
    def initialize(params: lsp.InitializeParams) -> None:
        server.lifecycle.watch_client(params.process_id)
        session.initialize(params)

    @server.feature(lsp.INITIALIZED)
    @_guarded(session, "start-up")
    async def initialized(params: lsp.InitializedParams) -> None:
        await session.initialized()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    @_guarded(session, "opening a document")
    async def did_open(params: lsp.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        service = await session.service_for(doc.uri)
        service.open_document(doc.uri, doc.language_id, doc.version, doc.text)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    @_guarded(session, "following an edit")
    async def did_change(params: lsp.DidChangeTextDocumentParams) -> None:
        from tether.lsp.convert import text_changes

        doc = params.text_document
        # pygls applied the change to its workspace; the service takes that text and the
        # edits (taken before any await: pygls may apply later changes meanwhile)
        changed = server.protocol.take_change(doc.uri, doc.version)  # type: ignore[attr-defined]
        service = await session.service_for(doc.uri)
        if changed is not None:
            service.document_changed(doc.uri, doc.version, changed.text, changed.edits)
        else:
            service.change_document(doc.uri, doc.version, text_changes(params.content_changes))

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE, lsp.SaveOptions(include_text=False))
    @_guarded(session, "handling a save")
    async def did_save(params: lsp.DidSaveTextDocumentParams) -> None:
        service = await session.service_for(params.text_document.uri)
        await service.save_document(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    @_guarded(session, "closing a document")
    async def did_close(params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        service = await session.service_for(uri)
        await service.close_document(uri)
        server.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(params: lsp.DidChangeConfigurationParams) -> None:
        session.did_change_configuration(params.settings)

    @server.feature(lsp.SHUTDOWN)
    async def shutdown(params: Any) -> None:
        await session.close()

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=CODE_ACTION_KINDS, resolve_provider=True),
    )
    @rpc
    async def code_action(params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
        from tether.lsp import actions

        return await actions.code_action(server, session, params)

    @server.feature(lsp.CODE_ACTION_RESOLVE)
    @rpc
    async def code_action_resolve(action: lsp.CodeAction) -> lsp.CodeAction:
        from tether.lsp import actions

        return await actions.resolve(server, session, action)

    for name in names.COMMANDS:
        server.command(name)(rpc(_command(server, session, name)))
    for method in names.REQUESTS:
        server.feature(method)(rpc(_request(server, session, method)))
    return server


def _command(server: TetherServer, session: Session, name: str) -> Callable[..., Awaitable[Any]]:
    async def run(*arguments: Any) -> Any:
        from tether.lsp.commands import HANDLERS

        return await HANDLERS[name](server, session, *arguments)

    run.__name__ = name
    return run


def _request(server: TetherServer, session: Session, method: str) -> Callable[..., Awaitable[Any]]:
    async def run(params: Any) -> Any:
        from tether.lsp.requests import HANDLERS

        return await HANDLERS[method](server, session, params)

    run.__name__ = method
    return run


def configure_logging() -> None:
    """Logs go to stderr (stdout is the protocol); TETHER_LOG sets the level."""
    level = os.environ.get("TETHER_LOG", "WARNING").upper()
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, level, logging.WARNING),
        format="tether %(levelname)s %(name)s: %(message)s",
    )
    if level != "DEBUG":
        for noisy in ("pygls", "bm25s"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("pygls.protocol.json_rpc").addFilter(_expected_errors)
    logging.getLogger("tether.lsp.wire").addFilter(_answered_unreadable)


def _answered_unreadable(record: logging.LogRecord) -> bool:
    """A body that is not JSON was answered with Parse error and logged in one line."""
    exc = record.exc_info[1] if record.exc_info else None
    return not isinstance(exc, json.JSONDecodeError | UnicodeDecodeError)


def _expected_errors(record: logging.LogRecord) -> bool:
    """Keep error responses Tether meant to send (bad ids, stale versions…) out of the log;
    malformed messages are logged in one line by TetherProtocol instead of a traceback."""
    if str(record.msg).startswith("Unable to deserialize message"):
        return False
    exc = record.exc_info[1] if record.exc_info else None
    return not (
        isinstance(exc, JsonRpcException)
        and exc.code != INTERNAL_ERROR
        and str(record.msg).startswith("Exception occurred for message")
    )


def serve(tcp: str | None = None) -> NoReturn:
    """Run the server over stdio, or on HOST:PORT for debugging, until the editor goes
    (`tether.lsp.lifecycle`: the process exits from there, with the LSP exit code)."""
    configure_logging()
    server = create_server()
    if tcp:
        host, _, port = tcp.rpartition(":")
        logging.getLogger("tether.lsp.lifecycle").setLevel(logging.INFO)  # "Serving on (…)"
        serve_tcp(server, host or "127.0.0.1", int(port))
    serve_stdio(server)
