"""A scripted editor around pytest-lsp's client: documents, applyEdit, prompts, waiting.

It behaves like the editors it stands for: it keeps its own copy of each document,
applies `workspace/applyEdit` only when a pinned version still matches (as VS Code does),
sends the resulting `didChange`, and answers `window/showMessageRequest` from a script.
`echo_edits="before"` sends that didChange before answering applyEdit (VS Code);
`"after"` sends it once the command that caused it has returned (Neovim debounces its
change notifications).

Waiting is event-driven: every message from the server wakes `wait_until`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar, Union

from lsprotocol import types as lsp
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    default_converter,
)
from pytest_lsp import LanguageClient, LanguageClientProtocol
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from tether.core.text import replace_range, utf16_len
from tether.core.types import Range

T = TypeVar("T")
TIMEOUT = 60.0


class _WakingProtocol(LanguageClientProtocol):
    def handle_message(self, message: Any) -> None:
        super().handle_message(message)
        self._server.wake()  # type: ignore[attr-defined]


def _converter() -> Any:
    """pygls' client converter with two fixes.

    lsprotocol reads any code action that has a `command` field as a bare Command (real
    editors tell them apart by the field's type); and custom messages stay plain JSON.
    """
    conv = default_converter()
    # Tether's own messages stay plain JSON (pygls would make namedtuples of them).
    for cls in (JsonRPCNotification, JsonRPCResponseMessage):
        conv.register_structure_hook(cls, lambda obj, c: c(**obj))

    def command_or_action(obj: Any, _: type) -> lsp.Command | lsp.CodeAction:
        if isinstance(obj.get("command"), str):
            return conv.structure(obj, lsp.Command)
        return conv.structure(obj, lsp.CodeAction)

    conv.register_structure_hook(Union[lsp.Command, lsp.CodeAction], command_or_action)  # noqa: UP007
    return conv


class EditorClient(LanguageClient):
    def __init__(self) -> None:
        super().__init__(protocol_cls=_WakingProtocol, converter_factory=_converter)
        self._waiters: list[asyncio.Future[None]] = []

    def wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def wait_until(self, predicate: Callable[[], T], what: str = "condition") -> T:
        """Wait (on server messages, not on time) until `predicate()` is truthy."""
        try:
            async with asyncio.timeout(TIMEOUT):
                while not (value := predicate()):
                    fut = asyncio.get_running_loop().create_future()
                    self._waiters.append(fut)
                    await fut
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}") from None
        return value


class Editor:
    def __init__(self, client: EditorClient, root: Path, echo_edits: str) -> None:
        self.client = client
        self.root = root
        self.echo_edits = echo_edits
        self.docs: dict[str, tuple[int, str]] = {}
        self.apply_answers: deque[str] = deque()  # "apply" (default) | "refuse"
        self.prompt_answers: deque[str | None] = deque()
        self.prompts: list[lsp.ShowMessageRequestParams] = []
        self.edits: list[lsp.ApplyWorkspaceEditParams] = []
        self.decisions: list[dict[str, Any]] = []
        self.training: list[dict[str, Any]] = []
        self.registrations: list[str] = []
        self.init_result: lsp.InitializeResult | None = None
        self.hold = asyncio.Event()  # cleared: progress creation waits (see make_editor)
        self.hold.set()
        self.progress_created: list[lsp.ProgressToken] = []
        self._deferred: list[tuple[str, int, list[lsp.TextDocumentContentChangeEvent]]] = []

    # ------------------------------------------------------------------ documents
    def uri(self, name: str) -> str:
        return (self.root / name).as_uri()

    def open(self, name: str, text: str, language: str = "python") -> str:
        uri = self.uri(name)
        (self.root / name).parent.mkdir(parents=True, exist_ok=True)
        (self.root / name).write_text(text, encoding="utf-8")
        self.docs[uri] = (1, text)
        self.client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(
                text_document=lsp.TextDocumentItem(
                    uri=uri, language_id=language, version=1, text=text
                )
            )
        )
        return uri

    def text(self, uri: str) -> str:
        return self.docs[uri][1]

    def version(self, uri: str) -> int:
        return self.docs[uri][0]

    def change(self, uri: str, rng: Range, new_text: str) -> int:
        """The user types: replace `rng` and tell the server."""
        version, text = self.docs[uri]
        self.docs[uri] = (version + 1, replace_range(text, rng, new_text))
        self.client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version + 1),
                content_changes=[
                    lsp.TextDocumentContentChangePartial(range=_lsp_range(rng), text=new_text)
                ],
            )
        )
        return version + 1

    def save(self, uri: str) -> None:
        self.client.text_document_did_save(
            lsp.DidSaveTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
        )

    # ------------------------------------------------------------------ requests
    async def command(self, name: str, argument: Any = None) -> Any:
        args = [argument] if argument is not None else []
        try:
            return await self.client.workspace_execute_command_async(
                lsp.ExecuteCommandParams(command=name, arguments=args)
            )
        finally:
            self.flush()

    async def request(self, method: str, params: Any, msg_id: str | None = None) -> Any:
        return await self.client.protocol.send_request_async(method, params, msg_id)

    def cancel(self, msg_id: str) -> None:
        self.client.protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id=msg_id))

    async def raw_request(self, method: str, params: Any) -> Any:
        """Send params exactly as given, without the client's typing (for malformed input)."""
        proto = self.client.protocol
        msg_id = str(uuid.uuid4())
        future: Future[Any] = Future()
        proto._request_futures[msg_id] = future
        proto._send_data(
            JsonRPCRequestMessage(id=msg_id, method=method, params=params, jsonrpc="2.0")
        )
        return await asyncio.wrap_future(future)

    async def propose(self, uri: str, rng: Range, task: str = "improve") -> list[str]:
        result = await self.command(
            "tether.propose",
            {"uri": uri, "range": rng.model_dump(), "task": task},
        )
        return list(result["proposalIds"])

    async def code_actions(
        self, uri: str, rng: Range, diagnostics: list[lsp.Diagnostic] | None = None
    ) -> list[lsp.CodeAction]:
        result = await self.client.text_document_code_action_async(
            lsp.CodeActionParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri),
                range=_lsp_range(rng),
                context=lsp.CodeActionContext(diagnostics=diagnostics or []),
            )
        )
        return [a for a in result or [] if isinstance(a, lsp.CodeAction)]

    async def run_action(self, action: lsp.CodeAction) -> Any:
        """What an editor does when the user picks an action: resolve if needed, run it."""
        if action.command is None:
            action = await self.client.code_action_resolve_async(action)
        assert action.command is not None, f"{action.title} has no command"
        return await self.command(action.command.command, (action.command.arguments or [None])[0])

    # ------------------------------------------------------------------ waiting
    async def decision(self, outcome: str, proposal_id: str | None = None) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            for d in self.decisions:
                if d["outcome"] == outcome and proposal_id in (None, d.get("proposalId")):
                    return d
            return None

        return await self.client.wait_until(find, f"a {outcome} decision")

    async def diagnostics_for(self, uri: str, count: int) -> list[lsp.Diagnostic]:
        """Wait until the server has published exactly `count` diagnostics for `uri`."""

        def ready() -> bool:
            diags = self.client.diagnostics.get(uri)
            return diags is not None and len(diags) == count

        await self.client.wait_until(ready, f"{count} diagnostics on {uri}")
        return list(self.client.diagnostics[uri])

    async def log(self, needle: str) -> str:
        def find() -> str | None:
            return next((m.message for m in self.client.log_messages if needle in m.message), None)

        return await self.client.wait_until(find, f"a log message containing {needle!r}")

    async def message(self, needle: str, kind: lsp.MessageType | None = None) -> str:
        def find() -> str | None:
            for m in self.client.messages:
                if needle in m.message and (kind is None or m.type == kind):
                    return m.message
            return None

        return await self.client.wait_until(find, f"a message containing {needle!r}")

    # ------------------------------------------------------------------ editor side
    def flush(self) -> None:
        """Send the didChange notifications of edits applied in "after" mode."""
        deferred, self._deferred = self._deferred, []
        for uri, version, changes in deferred:
            self.client.text_document_did_change(
                lsp.DidChangeTextDocumentParams(
                    text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=changes,
                )
            )

    def _apply_edit(self, params: lsp.ApplyWorkspaceEditParams) -> lsp.ApplyWorkspaceEditResult:
        self.edits.append(params)
        answer = self.apply_answers.popleft() if self.apply_answers else "apply"
        if answer == "refuse":
            return lsp.ApplyWorkspaceEditResult(applied=False, failure_reason="user said no")
        edit = params.edit
        per_doc: list[tuple[str, int | None, list[lsp.TextEdit]]] = []
        for dc in edit.document_changes or []:
            assert isinstance(dc, lsp.TextDocumentEdit)
            per_doc.append((dc.text_document.uri, dc.text_document.version, list(dc.edits)))
        for uri, edits in (edit.changes or {}).items():
            per_doc.append((uri, None, list(edits)))
        for uri, pinned, _ in per_doc:
            if pinned is not None and self.docs[uri][0] != pinned:
                return lsp.ApplyWorkspaceEditResult(
                    applied=False,
                    failure_reason=f"version {pinned} is stale (now {self.docs[uri][0]})",
                )
        for uri, _, edits in per_doc:
            version, text = self.docs[uri]
            changes: list[lsp.TextDocumentContentChangeEvent] = []
            ordered = sorted(
                edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
            )
            for e in ordered:  # bottom-up, so earlier ranges stay valid
                rng = Range.of(
                    e.range.start.line,
                    e.range.start.character,
                    e.range.end.line,
                    e.range.end.character,
                )
                text = replace_range(text, rng, e.new_text)
                changes.append(lsp.TextDocumentContentChangePartial(range=e.range, text=e.new_text))
            self.docs[uri] = (version + 1, text)
            if self.echo_edits == "before":
                self.client.text_document_did_change(
                    lsp.DidChangeTextDocumentParams(
                        text_document=lsp.VersionedTextDocumentIdentifier(
                            uri=uri, version=version + 1
                        ),
                        content_changes=changes,
                    )
                )
            else:
                self._deferred.append((uri, version + 1, changes))
        return lsp.ApplyWorkspaceEditResult(applied=True)

    def _prompt(self, params: lsp.ShowMessageRequestParams) -> lsp.MessageActionItem | None:
        self.prompts.append(params)
        answer = self.prompt_answers.popleft() if self.prompt_answers else None
        return lsp.MessageActionItem(title=answer) if answer is not None else None


def make_editor(root: Path, echo_edits: str) -> Editor:
    client = EditorClient()
    editor = Editor(client, root, echo_edits)
    features = dict(DEFAULT_CLIENT_FEATURES)
    default_create = features[lsp.WINDOW_WORK_DONE_PROGRESS_CREATE]

    async def create_progress(
        client: EditorClient, params: lsp.WorkDoneProgressCreateParams
    ) -> None:
        """Like the default, but can be held: the server's work waits at its start."""
        editor.progress_created.append(params.token)
        client.wake()
        await editor.hold.wait()
        return default_create(client, params)

    features[lsp.WINDOW_WORK_DONE_PROGRESS_CREATE] = create_progress
    register_lsp_features(client, features)

    @client.feature(lsp.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: lsp.ApplyWorkspaceEditParams) -> lsp.ApplyWorkspaceEditResult:
        return editor._apply_edit(params)

    @client.feature(lsp.WINDOW_SHOW_MESSAGE_REQUEST)
    def show_message_request(
        params: lsp.ShowMessageRequestParams,
    ) -> lsp.MessageActionItem | None:
        return editor._prompt(params)

    @client.feature(lsp.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: lsp.RegistrationParams) -> None:
        editor.registrations.extend(r.method for r in params.registrations)

    @client.feature("tether/decisionRecorded")
    def decision_recorded(params: Any) -> None:
        editor.decisions.append(params)

    @client.feature("tether/trainingStatus")
    def training_status(params: Any) -> None:
        editor.training.append(params)

    return editor


async def start(editor: Editor, env: dict[str, str]) -> None:
    await editor.client.start_io(sys.executable, "-m", "tether", "lsp", env={**os.environ, **env})


def _lsp_range(rng: Range) -> lsp.Range:
    return lsp.Range(
        start=lsp.Position(line=rng.start.line, character=rng.start.character),
        end=lsp.Position(line=rng.end.line, character=rng.end.character),
    )


def end_of(text: str) -> Range:
    """The range of the whole text."""
    lines = text.split("\n")
    return Range.of(0, 0, len(lines) - 1, utf16_len(lines[-1]))
