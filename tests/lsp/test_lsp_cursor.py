"""`tether.propose` on a bare cursor works on the code around it, never inserts at it."""

from __future__ import annotations

from pathlib import Path

from tether.core.types import Range
from tether.lsp.scope import widen_cursor

from .conftest import GREET_IMPROVED, IMPROVE, SOURCE, Launch, fenced

CURSOR_IN_GREET = Range.of(2, 6, 2, 6)  # inside `print(message)`
REST = SOURCE[SOURCE.index("\n\n") + 1 :]


async def test_cursor_in_a_function_proposes_on_the_whole_function(
    launch: Launch, ws: Path
) -> None:
    editor = await launch(replay=[IMPROVE])  # the model answers with all of greet, rewritten
    uri = editor.open("app.py", SOURCE)

    [pid] = await editor.propose(uri, CURSOR_IN_GREET)
    proposal = await editor.request("tether/proposal", {"proposalId": pid})
    assert proposal["range"] == {
        "start": {"line": 0, "character": 0},
        "end": {"line": 3, "character": len("    return message")},
    }
    assert proposal["original"] == SOURCE[: SOURCE.index("\n\n")]

    await editor.command("tether.accept", {"proposalId": pid})
    assert editor.text(uri) == GREET_IMPROVED + REST  # greet replaced once, nothing duplicated


async def test_cursor_outside_any_function_proposes_on_its_line(launch: Launch, ws: Path) -> None:
    source = "LIMIT = 10\n" + SOURCE
    answer = {"task": "improve", "completion": fenced("LIMIT: int = 10\n", "Annotate LIMIT.")}
    editor = await launch(replay=[answer])
    uri = editor.open("app.py", source)

    [pid] = await editor.propose(uri, Range.of(0, 3, 0, 3))
    proposal = await editor.request("tether/proposal", {"proposalId": pid})
    assert proposal["original"] == "LIMIT = 10"

    await editor.command("tether.accept", {"proposalId": pid})
    assert editor.text(uri) == "LIMIT: int = 10\n" + SOURCE


DECORATED = (
    "import functools\n"
    "\n"
    "\n"
    "@functools.cache\n"
    "def outer(x):\n"
    "    def inner(y):\n"
    "        return y + 1\n"
    "\n"
    "    return inner(x)\n"
    "total = 0\n"
)


def test_cursor_widens_to_the_innermost_function_with_its_decorators() -> None:
    assert widen_cursor(DECORATED, "python", Range.of(6, 3, 6, 3)) == Range.of(5, 0, 6, 20)
    assert widen_cursor(DECORATED, "python", Range.of(8, 0, 8, 0)) == Range.of(3, 0, 8, 19)
    assert widen_cursor(DECORATED, "python", Range.of(9, 2, 9, 2)) == Range.of(9, 0, 9, 9)


def test_a_selection_is_kept_as_it_is() -> None:
    selected = Range.of(6, 8, 6, 14)
    assert widen_cursor(DECORATED, "python", selected) == selected


def test_cursor_with_diagnostics_widens_to_their_lines() -> None:
    diag = [Range.of(8, 4, 8, 10), Range.of(6, 15, 6, 16)]
    assert widen_cursor(DECORATED, "python", Range.of(8, 4, 8, 4), diag) == Range.of(6, 0, 8, 19)


def test_unparsable_or_other_languages_widen_to_the_line() -> None:
    broken = DECORATED.replace("return inner(x)", "return inner(x")
    assert widen_cursor(broken, "python", Range.of(6, 3, 6, 3)) == Range.of(6, 0, 6, 20)
    assert widen_cursor(DECORATED, "rust", Range.of(6, 3, 6, 3)) == Range.of(6, 0, 6, 20)
