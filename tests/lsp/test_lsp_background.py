"""Work the editor does not wait on: cancelling stale agent runs, reviews on save."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from tether.core.types import Range

from .conftest import SOURCE, Launch, store_path
from .test_lsp_proposals import rows

GREET = Range.of(0, 0, 3, 18)
REQUEST_CANCELLED = -32800
CONTENT_MODIFIED = -32801


def _propose_params(uri: str) -> lsp.ExecuteCommandParams:
    return lsp.ExecuteCommandParams(
        command="tether.propose",
        arguments=[{"uri": uri, "range": GREET.model_dump(), "task": "improve"}],
    )


async def test_cancel_request_stops_the_agent_run(
    launch: Launch, ws: Path, tether_home: Path
) -> None:
    editor = await launch()
    uri = editor.open("app.py", SOURCE)
    editor.hold.clear()  # the run waits on its progress bar: it is in flight
    running = asyncio.ensure_future(
        editor.request("workspace/executeCommand", _propose_params(uri), msg_id="propose-1")
    )
    await editor.client.wait_until(lambda: editor.progress_created, "the run to start")
    editor.cancel("propose-1")
    with pytest.raises(JsonRpcException) as err:
        await running
    assert err.value.code == REQUEST_CANCELLED
    editor.hold.set()
    # nothing was proposed or recorded, and the server serves the next run
    assert (await editor.request("tether/history", {}))["total"] == 0
    assert await editor.propose(uri, GREET)


async def test_document_change_drops_stale_work(
    launch: Launch, ws: Path, tether_home: Path
) -> None:
    editor = await launch()
    uri = editor.open("app.py", SOURCE)
    editor.hold.clear()
    running = asyncio.ensure_future(
        editor.command(
            "tether.propose", {"uri": uri, "range": GREET.model_dump(), "task": "improve"}
        )
    )
    await editor.client.wait_until(lambda: editor.progress_created, "the run to start")
    editor.change(uri, Range.of(10, 17, 10, 17), "  # sum")
    await editor.request("tether/status", {})  # the change has been handled
    editor.hold.set()
    with pytest.raises(JsonRpcException) as err:
        await running
    assert err.value.code == CONTENT_MODIFIED and "app.py changed" in err.value.message
    assert (await editor.request("tether/history", {}))["total"] == 0
    await editor.client.wait_until(
        lambda: any(v and v[-1].kind == "end" for v in editor.client.progress_reports.values()),
        "the progress bar to end",
    )


async def test_review_on_save_publishes_proposals(
    launch: Launch, ws: Path, tether_home: Path
) -> None:
    editor = await launch(options={"reviewOnSave": True, "reviewDebounceMs": 0})
    uri = editor.open("app.py", SOURCE[: SOURCE.index("\n\n")] + "\n")
    editor.save(uri)
    [diag] = await editor.diagnostics_for(uri, 1)
    assert diag.source == "tether" and diag.message == "Annotate greet and flush."
    [row] = rows(store_path(ws, tether_home))
    assert row["outcome"] == "proposed" and row["proposal_id"] == diag.data["proposalId"]
