"""The service reads each open document from pygls' workspace (issue 19: no second copy).

pygls applies every didChange to its workspace before Tether's handler runs; the protocol
notes, change by change, the edit each made in the text before it. Driven in process
through the protocol's own didChange method, so the text objects can be compared.
"""

from __future__ import annotations

from lsprotocol import types as lsp
from pygls.workspace import Workspace

from tether.core.tracking import Edit
from tether.lsp.server import create_server

URI = "file:///ws/app.py"


def _server_with(text: str):  # type: ignore[no-untyped-def]
    server = create_server()
    protocol = server.protocol
    protocol._workspace = Workspace(  # what `initialize` sets up
        None,
        lsp.TextDocumentSyncKind.Incremental,
        position_encoding=lsp.PositionEncodingKind.Utf16,
    )
    protocol.workspace.put_text_document(lsp.TextDocumentItem(URI, "python", 1, text))
    return server, protocol


def _change(protocol, version: int, *changes: lsp.TextDocumentContentChangeEvent) -> None:  # type: ignore[no-untyped-def]
    params = lsp.DidChangeTextDocumentParams(
        lsp.VersionedTextDocumentIdentifier(version=version, uri=URI), list(changes)
    )
    handlers = list(protocol.lsp_text_document__did_change(params))
    assert len(handlers) == 1  # Tether's own didChange handler still runs after it


def _at(line: int, char: int, end_line: int, end_char: int, text: str):  # type: ignore[no-untyped-def]
    return lsp.TextDocumentContentChangePartial(
        range=lsp.Range(lsp.Position(line, char), lsp.Position(end_line, end_char)), text=text
    )


def test_the_change_hands_over_the_workspace_text_and_each_edit() -> None:
    _, protocol = _server_with("x = '😀'\ny = 1\n")
    # two changes in one notification, the second in the text the first left; UTF-16
    # columns: the emoji is two units, so column 7 is after it
    _change(protocol, 2, _at(0, 7, 0, 8, "!'"), _at(1, 4, 1, 5, "22"))
    changed = protocol.take_change(URI, 2)
    assert changed is not None
    assert changed.text == "x = '😀!'\ny = 22\n"
    assert changed.text is protocol.workspace.get_text_document(URI).source  # the same string
    assert changed.edits == [Edit(6, 6, 1, "!"), Edit(13, 14, 2, "22")]
    assert protocol.take_change(URI, 2) is None  # taken once


def test_a_whole_text_change_and_a_range_past_the_end() -> None:
    _, protocol = _server_with("a\n")
    _change(protocol, 2, lsp.TextDocumentContentChangeWholeDocument(text="a\nb\n"))
    assert protocol.take_change(URI, 2).edits == [Edit(2, 2, 2, "b\n")]
    _change(protocol, 3, _at(5, 0, 5, 0, "c\n"))  # pygls appends; the edit says so
    changed = protocol.take_change(URI, 3)
    assert changed.text == "a\nb\nc\n" and changed.edits == [Edit(4, 4, 2, "c\n")]
