"""The model's answer streams into the editor: `$/progress` report messages on the request's
work-done token carry the answer so far, growing, before the bar ends with the result.

Over a real LSP client (pytest-lsp) with both editors' ways of holding the bar: VS Code's
client sends its own workDoneToken, Neovim lets the server create one.
"""

from __future__ import annotations

import contextlib
import itertools
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from tether.core.types import Range

from .conftest import IMPROVE, SOURCE, Launch
from .test_lsp_citizen import tiny_model  # noqa: F401

GREET = Range.of(0, 0, 3, 18)


def _partials(values: list) -> list[str]:
    return [v.message for v in values if isinstance(v, lsp.WorkDoneProgressReport) and v.message]


def _assert_growing(partials: list[str]) -> None:
    assert len(partials) >= 2, partials
    for earlier, later in itertools.pairwise(partials):
        assert later.startswith(earlier) and len(later) > len(earlier), (earlier, later)


async def test_the_answer_streams_on_the_clients_own_token(launch: Launch) -> None:
    """VS Code's way: the client's token; the answer so far grows to the whole answer."""
    editor = await launch("vscode", replay=[IMPROVE])
    uri = editor.open("app.py", SOURCE)
    token = "vscode-ask-1"
    editor.client.progress_reports.setdefault(token, [])  # the client made this token
    answer = await editor.client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(
            command="tether.ask",
            arguments=[{"uri": uri, "range": GREET.model_dump(), "instruction": "annotate it"}],
            work_done_token=token,
        )
    )
    assert len(answer["shown"]) == 1
    assert editor.progress_created == []  # the server used the client's token
    values = editor.client.progress_reports[token]
    assert isinstance(values[0], lsp.WorkDoneProgressBegin)
    assert isinstance(values[-1], lsp.WorkDoneProgressEnd)
    partials = _partials(values)
    _assert_growing(partials)
    # the last report is the model's whole answer, sent before the bar ended
    assert partials[-1] == IMPROVE["completion"]
    assert partials[0] == IMPROVE["completion"].splitlines(keepends=True)[0]


async def test_the_answer_streams_on_a_token_the_server_creates(launch: Launch) -> None:
    """Neovim's way: no token on the request; the server creates one and streams on it."""
    editor = await launch("neovim", replay=[IMPROVE])
    uri = editor.open("app.py", SOURCE)
    [pid] = await editor.propose(uri, GREET)
    [token] = editor.progress_created
    partials = _partials(editor.client.progress_reports[token])
    _assert_growing(partials)
    assert partials[-1] == IMPROVE["completion"]
    # Regenerate streams its new answer too (a bar of its own)
    await editor.command("tether.regenerate", {"proposalId": pid})
    [_, again] = editor.progress_created
    assert _partials(editor.client.progress_reports[again])[-1] == IMPROVE["completion"]


@pytest.mark.slow
async def test_the_embedded_model_streams_while_it_generates(
    launch: Launch,
    tiny_model: Path,  # noqa: F811
) -> None:
    """The in-process transformers model: reports arrive while it writes (a tiny random
    model, so its answer is no proposal; the answer so far still reached the editor)."""
    editor = await launch(
        "neovim",
        env={
            "TETHER_MODEL": f"embedded:{tiny_model}",
            "TETHER_MAX_NEW_TOKENS": "400",
            "TETHER_CANDIDATES": "2",  # sampled: greedy random weights stop at once
            "TETHER_TRAINING__AUTO_SCHEDULE": "false",
        },
    )
    uri = editor.open("app.py", SOURCE)
    with contextlib.suppress(JsonRpcException):  # random weights write no code: no proposal
        await editor.propose(uri, GREET)
    [token] = editor.progress_created
    values = editor.client.progress_reports[token]
    assert isinstance(values[-1], lsp.WorkDoneProgressEnd)
    _assert_growing(_partials(values))
