"""Bad input gets a clear error, the server keeps serving, and no recorded decision is lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from tether.core.types import Range

from .conftest import (
    IMPROVE,
    IMPROVE_TOTAL,
    SOURCE,
    TOTAL,
    TOTAL_IMPROVED,
    Launch,
    fenced,
    store_path,
)
from .test_lsp_proposals import rows

GREET = Range.of(0, 0, 3, 18)
INVALID_PARAMS = -32602
CONTENT_MODIFIED = -32801
REQUEST_FAILED = -32803
METHOD_NOT_FOUND = -32601


async def _error(call) -> JsonRpcException:
    with pytest.raises(JsonRpcException) as err:
        await call
    return err.value


async def test_bad_requests_get_clear_errors_and_lose_nothing(
    launch: Launch, ws: Path, tether_home: Path
) -> None:
    garbage = {"task": "improve", "completion": "I would rather not."}
    editor = await launch(options={"maxFileBytes": 1000}, replay=[IMPROVE, IMPROVE_TOTAL, garbage])
    uri = editor.open("app.py", SOURCE)
    [pid] = await editor.propose(uri, GREET)
    await editor.command("tether.accept", {"proposalId": pid})
    before = rows(store_path(ws, tether_home))
    assert [r["outcome"] for r in before] == ["proposed", "accepted"]

    async def command(name: str, arg) -> JsonRpcException:
        return await _error(editor.command(name, arg))

    # unknown proposal ids
    for name in ("tether.accept", "tether.reject", "tether.showDiff"):
        err = await command(name, {"proposalId": "no-such-id"})
        assert err.code == INVALID_PARAMS and "unknown proposal id 'no-such-id'" in err.message
    err = await _error(editor.request("tether/proposal", {"proposalId": "no-such-id"}))
    assert "unknown proposal id" in err.message
    # deciding twice
    err = await command("tether.accept", {"proposalId": pid})
    assert err.code == REQUEST_FAILED and "already accepted" in err.message
    # positions past the end of a line (UTF-16 units) or of the document
    emoji = editor.open("emoji.py", 's = "😀"\n')  # 8 UTF-16 units on line 0
    err = await command(
        "tether.propose",
        {"uri": emoji, "task": "improve", "range": Range.of(0, 0, 0, 9).model_dump()},
    )
    assert err.code == INVALID_PARAMS and "past the end of the line (8 UTF-16 units)" in err.message
    err = await command(
        "tether.propose",
        {"uri": uri, "task": "improve", "range": Range.of(0, 0, 40, 0).model_dump()},
    )
    assert "line 40 is past the end of the document (12 lines)" in err.message
    err = await _error(editor.code_actions(uri, Range.of(3, 0, 3, 99)))
    assert err.code == INVALID_PARAMS and "past the end of the line" in err.message
    # a stale document version
    err = await command(
        "tether.propose", {"uri": uri, "task": "improve", "version": 1, "range": GREET.model_dump()}
    )
    assert err.code == CONTENT_MODIFIED and "not 1" in err.message
    # a document over the size limit (1000 bytes here)
    big = editor.open("big.py", "x = 1\n" * 300)
    err = await command(
        "tether.propose",
        {"uri": big, "task": "improve", "range": Range.of(0, 0, 1, 0).model_dump()},
    )
    assert "1,800 bytes, over the max_file_bytes limit (1,000)" in err.message
    offered = await editor.code_actions(big, Range.of(0, 0, 1, 0))  # VS Code shows why not
    assert offered and all(a.command is None and a.disabled for a in offered)
    assert "over the max_file_bytes limit" in offered[0].disabled.reason
    # unknown task, unknown document
    err = await command(
        "tether.propose", {"uri": uri, "task": "dance", "range": GREET.model_dump()}
    )
    assert "unknown task 'dance'" in err.message and "improve" in err.message
    err = await command(
        "tether.propose",
        {"uri": "untitled:Untitled-1", "task": "improve", "range": GREET.model_dump()},
    )
    assert "not open in the editor" in err.message
    # malformed command arguments and requests
    err = await command("tether.accept", "just-a-string")
    assert err.code == INVALID_PARAMS and "single object argument" in err.message
    err = await command("tether.accept", {})
    assert err.code == INVALID_PARAMS and "proposalId" in err.message
    err = await command("tether.accept", {"proposalId": pid, "hunks": "all"})
    assert "hunks" in err.message
    err = await command(
        "tether.propose",
        {"uri": uri, "task": "improve", "range": {"start": {"line": -1, "character": 0}}},
    )
    assert err.code == INVALID_PARAMS and "range" in err.message
    err = await command("tether.nope", {})
    assert err.code == INVALID_PARAMS and "tether.nope" in err.message
    err = await _error(editor.request("tether/history", {"limit": 0}))
    assert err.code == INVALID_PARAMS and "limit" in err.message
    err = await _error(editor.request("tether/history", {"filter": {"colour": "red"}}))
    assert "filter.colour: unknown field" in err.message
    err = await _error(editor.raw_request("tether/history", [1, 2]))
    assert "params must be a JSON object" in err.message
    err = await _error(editor.raw_request("textDocument/codeAction", {"textDocument": 5}))
    assert err.code == INVALID_PARAMS and "malformed textDocument/codeAction" in err.message
    err = await _error(editor.raw_request("tether/nope", {}))
    assert err.code == METHOD_NOT_FOUND
    err = await _error(editor.raw_request("codeAction/resolve", {"title": "x", "data": {}}))
    assert "carries no Tether data" in err.message

    # still serving, and every decision is still there, chained
    assert await editor.propose(uri, TOTAL)
    # a model answering garbage: a clear error (the next answer in the replay file)
    err = await _error(editor.propose(uri, TOTAL))
    assert err.code == REQUEST_FAILED
    assert err.message.startswith("No suggestion for this selection")
    assert "gave no code" in err.message and not err.message.startswith("Tether")
    msg = err.data["message"]  # the catalogue's parts and buttons, for the editor
    assert [a["id"] for a in msg["actions"]] == ["retry", "rephrase"]
    assert "no code block" in msg["detail"][0]  # the raw reason is kept for the log
    after = rows(store_path(ws, tether_home))
    assert after[: len(before)] == before
    assert (await editor.command("tether.verify", {}))["ok"] is True


async def test_provider_down_is_a_clear_error(launch: Launch, tmp_path: Path) -> None:
    editor = await launch(env={"TETHER_MODEL": f"replay:{tmp_path / 'missing.jsonl'}"})
    uri = editor.open("app.py", SOURCE)
    err = await _error(editor.propose(uri, GREET))
    assert err.code == REQUEST_FAILED
    assert "missing.jsonl does not exist" in err.message
    assert (await editor.request("tether/status", {}))["workspaces"]  # still serving


async def test_the_advice_after_nothing_survived_depends_on_what_was_selected(
    launch: Launch,
) -> None:
    """Over the wire: "Select enclosing function" is offered for part of a function, not
    for a selection that already is the whole function (it would send the user in a circle)."""
    # `total` that would not parse, then all of `total` for two of its lines
    broken = fenced("def total(values):\n    result = 0\n        return result\n", "Shorter.")
    unparsable = {"task": "improve", "completion": broken}
    beyond = {"task": "improve", "completion": fenced(TOTAL_IMPROVED, "Annotate total.")}
    editor = await launch(replay=[unparsable, beyond])
    uri = editor.open("app.py", SOURCE)
    whole = await _error(editor.propose(uri, TOTAL))
    partial = await _error(editor.propose(uri, Range.of(8, 0, 9, 27)))
    for err in (whole, partial):
        assert err.code == REQUEST_FAILED
        assert err.message.startswith("No suggestion for this selection")
    whole_ids = [a["id"] for a in whole.data["message"]["actions"]]
    partial_ids = [a["id"] for a in partial.data["message"]["actions"]]
    assert "selectEnclosingFunction" in partial_ids and "Select the whole" in partial.message
    assert "selectEnclosingFunction" not in whole_ids and "retry" in whole_ids
    assert "unable to parse" in whole.message and "Select the whole" not in whole.message
    assert whole.message.endswith("Try again, or say in your own words what you want.")
