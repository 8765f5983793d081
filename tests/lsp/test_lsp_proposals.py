"""Proposals end to end: code action → agent → diagnostic → accept/reject → the store."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from tether.core.types import Range

from .conftest import BOTH, GREET_IMPROVED, SOURCE, Launch, fenced, store_path

GREET = Range.of(0, 0, 3, 18)


def _read(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True)  # never creates the file


def rows(db: Path) -> list[dict]:
    """The decision log as the SQLite file holds it (not through Tether's code)."""
    conn = _read(db)
    try:
        return [json.loads(b) for (b,) in conn.execute("SELECT body FROM decisions ORDER BY seq")]
    finally:
        conn.close()


def proposal_state(db: Path, pid: str) -> str:
    conn = _read(db)
    try:
        return conn.execute("SELECT state FROM proposals WHERE id = ?", (pid,)).fetchone()[0]
    finally:
        conn.close()


@BOTH
async def test_code_action_to_accepted_decision(
    launch: Launch, kind: str, ws: Path, tether_home: Path
) -> None:
    editor = await launch(kind)
    uri = editor.open("app.py", SOURCE)
    actions = await editor.code_actions(uri, GREET)
    titles = [a.title for a in actions]
    assert "Tether: Improve" in titles and "Tether: Document" in titles

    improve = next(a for a in actions if a.title == "Tether: Improve")
    result = await editor.run_action(improve)
    [pid] = result["proposalIds"]
    [diag] = await editor.diagnostics_for(uri, 1)
    assert diag.source == "tether"
    assert diag.message == "Annotate greet and flush."
    assert diag.data == {"proposalId": pid}
    assert diag.severity in (lsp.DiagnosticSeverity.Hint, lsp.DiagnosticSeverity.Information)
    progress = [v for values in editor.client.progress_reports.values() for v in values]
    kinds = [p.kind for p in progress]  # the reports between carry the answer so far
    assert kinds[0] == "begin" and kinds[-1] == "end" and set(kinds[1:-1]) <= {"report"}

    actions = await editor.code_actions(uri, GREET, [diag])
    titles = [a.title for a in actions]
    assert titles[:1] == ["Tether: Accept — Annotate greet and flush."]
    assert {"Tether: Reject", "Tether: Reject with reason…", "Tether: Show diff"} <= set(titles)
    assert "Tether: Accept hunk 1 of 2 (line 1)" in titles
    assert "Tether: Accept hunk 2 of 2 (line 3)" in titles

    accepted = await editor.run_action(actions[0])
    assert accepted["outcome"] == "accepted"
    assert editor.text(uri) == GREET_IMPROVED + SOURCE[SOURCE.index("\n\n") + 1 :]
    [edit] = editor.edits
    if kind == "vscode":  # pinned to the version the proposal was made on
        [change] = edit.edit.document_changes or []
        assert change.text_document.version == 1
    await editor.diagnostics_for(uri, 0)

    db = store_path(ws, tether_home)
    log = rows(db)
    assert [r["outcome"] for r in log] == ["proposed", "accepted"]
    assert log[1]["proposal_id"] == pid and log[1]["actor"] == "user"
    assert log[1]["hunks"] is None
    assert proposal_state(db, pid) == "accepted"
    recorded = await editor.decision("accepted", pid)
    assert recorded["seq"] == 2


async def _propose_greet(editor, uri: str) -> tuple[str, lsp.Diagnostic]:
    [pid] = await editor.propose(uri, GREET)
    [diag] = await editor.diagnostics_for(uri, 1)
    return pid, diag


@BOTH
async def test_accept_one_hunk_of_several(
    launch: Launch, kind: str, ws: Path, tether_home: Path
) -> None:
    editor = await launch(kind)
    uri = editor.open("app.py", SOURCE)
    _, diag = await _propose_greet(editor, uri)
    actions = await editor.code_actions(uri, GREET, [diag])
    second = next(a for a in actions if a.title.startswith("Tether: Accept hunk 2 of 2"))
    result = await editor.run_action(second)
    assert result["outcome"] == "partly_accepted"  # its own outcome, not a plain accept
    # only the second hunk (the print line) landed; the signature is untouched
    assert editor.text(uri).startswith(
        'def greet(name):\n    message = "Hello, " + name\n    print(message, flush=True)\n'
    )
    accepted = rows(store_path(ws, tether_home))[-1]
    assert accepted["outcome"] == "partly_accepted" and accepted["hunks"] == [1]
    assert accepted["data"] == {"hunks_total": 2}
    assert accepted["after"] == (
        'def greet(name):\n    message = "Hello, " + name\n'
        "    print(message, flush=True)\n    return message"
    )


@BOTH
async def test_reject_with_reason(launch: Launch, kind: str, ws: Path, tether_home: Path) -> None:
    editor = await launch(kind)
    uri = editor.open("app.py", SOURCE)
    pid, diag = await _propose_greet(editor, uri)
    actions = await editor.code_actions(uri, GREET, [diag])
    with_reason = next(a for a in actions if a.title == "Tether: Reject with reason…")
    editor.prompt_answers.append("Not my style")
    result = await editor.run_action(with_reason)
    assert result["outcome"] == "rejected"
    assert [a.title for a in editor.prompts[-1].actions or []][:1] == [
        "Wrong: it changes behaviour"
    ]
    await editor.diagnostics_for(uri, 0)
    assert editor.text(uri) == SOURCE and editor.edits == []
    row = rows(store_path(ws, tether_home))[-1]
    assert (row["outcome"], row["reason"], row["proposal_id"]) == ("rejected", "Not my style", pid)
    assert proposal_state(store_path(ws, tether_home), pid) == "rejected"

    # an editor with its own input box sends free text
    pid2, _ = await _propose_greet(editor, uri)
    await editor.command("tether.reject", {"proposalId": pid2, "reason": "names are fine as is"})
    assert rows(store_path(ws, tether_home))[-1]["reason"] == "names are fine as is"

    # dismissing the reason prompt rejects nothing
    pid3, diag3 = await _propose_greet(editor, uri)
    actions = await editor.code_actions(uri, GREET, [diag3])
    result = await editor.run_action(next(a for a in actions if "with reason" in a.title))
    assert result["cancelled"] is True
    assert proposal_state(store_path(ws, tether_home), pid3) == "pending"


@BOTH
async def test_version_change_expires_the_proposal(
    launch: Launch, kind: str, ws: Path, tether_home: Path
) -> None:
    editor = await launch(kind)
    uri = editor.open("app.py", SOURCE)
    pid, _ = await _propose_greet(editor, uri)
    editor.change(uri, Range.of(10, 17, 10, 17), "  # sum")  # typing elsewhere in the file
    expired = await editor.decision("expired", pid)
    assert expired["actor"] == "system" and "version 1 → 2" in expired["reason"]
    await editor.diagnostics_for(uri, 0)
    with pytest.raises(JsonRpcException) as err:
        await editor.command("tether.accept", {"proposalId": pid})
    assert "already expired" in str(err.value)
    assert editor.edits == []  # nothing was sent to the editor
    assert [r["outcome"] for r in rows(store_path(ws, tether_home))] == ["proposed", "expired"]

    # closing the document ends the proposals shown on it too
    again, _ = await _propose_greet(editor, uri)
    editor.client.text_document_did_close(
        lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
    )
    closed = await editor.decision("expired", again)
    assert closed["reason"] == "the document was closed"


async def test_apply_refused_by_the_editor_expires(
    launch: Launch, ws: Path, tether_home: Path
) -> None:
    editor = await launch()
    uri = editor.open("app.py", SOURCE)
    pid, _ = await _propose_greet(editor, uri)
    editor.apply_answers.append("refuse")
    with pytest.raises(JsonRpcException) as err:
        await editor.command("tether.accept", {"proposalId": pid})
    assert "did not apply the edit (user said no)" in str(err.value)
    row = rows(store_path(ws, tether_home))[-1]
    assert (row["outcome"], row["proposal_id"]) == ("expired", pid)
    assert "user said no" in row["reason"]
    assert editor.text(uri) == SOURCE
    await editor.diagnostics_for(uri, 0)


@BOTH
async def test_rewriting_an_accepted_range_is_a_correction(
    launch: Launch, kind: str, ws: Path, tether_home: Path
) -> None:
    editor = await launch(kind)
    uri = editor.open("app.py", SOURCE)
    pid, _ = await _propose_greet(editor, uri)
    await editor.command("tether.accept", {"proposalId": pid})
    assert editor.text(uri).startswith(GREET_IMPROVED)
    # the user edits inside the accepted code, and elsewhere (which must not count)
    editor.change(uri, Range.of(2, 4, 2, 30), "print(message, end='')")
    editor.change(uri, Range.of(10, 17, 10, 17), "  # sum")
    editor.save(uri)
    corrected = await editor.decision("corrected", pid)
    final = (
        "def greet(name: str) -> str:\n"
        '    message = "Hello, " + name\n'
        "    print(message, end='')\n"
        "    return message"
    )
    assert corrected["after"] == final and corrected["actor"] == "user"
    db = store_path(ws, tether_home)
    assert [r["outcome"] for r in rows(db)] == ["proposed", "accepted", "corrected"]
    assert proposal_state(db, pid) == "corrected"


async def test_rewriting_a_rejected_range_is_recorded(
    launch: Launch, ws: Path, tether_home: Path
) -> None:
    editor = await launch()
    uri = editor.open("app.py", SOURCE)
    pid, _ = await _propose_greet(editor, uri)
    await editor.command("tether.reject", {"proposalId": pid})
    editor.change(uri, Range.of(1, 14, 1, 30), 'f"Hello, {name}"')
    editor.change(uri, Range.of(0, 0, 0, 0), "# greeting\n")  # above: shifts, does not count
    editor.save(uri)
    rewritten = await editor.decision("rewritten", pid)
    assert rewritten["after"] == (
        'def greet(name):\n    message = f"Hello, {name}"\n    print(message)\n    return message'
    )


async def test_untouched_accept_records_no_correction(
    launch: Launch, ws: Path, tether_home: Path
) -> None:
    editor = await launch()
    uri = editor.open("app.py", SOURCE)
    pid, _ = await _propose_greet(editor, uri)
    await editor.command("tether.accept", {"proposalId": pid})
    editor.change(uri, Range.of(5, 0, 5, 0), "# a comment between the functions\n")
    editor.save(uri)
    await editor.command("tether.verify", {})  # a round trip: the save has been handled
    # no correction; and no review either (review on save is off by default)
    assert [r["outcome"] for r in rows(store_path(ws, tether_home))] == ["proposed", "accepted"]
    assert not editor.client.diagnostics.get(uri)


async def test_accept_an_alternative_candidate(launch: Launch, ws: Path, tether_home: Path) -> None:
    other = GREET_IMPROVED.replace("flush=True", "end='\\n'")
    editor = await launch(
        options={"candidates": 2},
        replay=[
            {
                "task": "improve",
                "completions": [
                    fenced(GREET_IMPROVED, "Annotate greet and flush."),
                    fenced(other, "Or this."),
                ],
            }
        ],
    )
    uri = editor.open("app.py", SOURCE)
    pid, diag = await _propose_greet(editor, uri)
    actions = await editor.code_actions(uri, GREET, [diag])
    alternative = next(
        a for a in actions if a.title == "Tether: Accept alternative 2 of 2 — Or this."
    )
    await editor.run_action(alternative)
    assert editor.text(uri).startswith(other)
    row = rows(store_path(ws, tether_home))[-1]
    assert (row["outcome"], row["candidate"], row["proposal_id"]) == ("accepted", 1, pid)
    assert row["after"] == other.rstrip("\n")
