"""Requests in the user's own words: Ask, Regenerate, Refine; and partial accepts."""

from __future__ import annotations

from pathlib import Path

from pygls.exceptions import JsonRpcException

from tether.core.types import Range

from .conftest import IMPROVE, SOURCE, Launch
from .test_lsp_proposals import proposal_state, rows, store_path

GREET = Range.of(0, 0, 3, 18)


async def test_ask_in_own_words_then_accept_part_with_a_reason(
    launch: Launch, ws: Path, tether_home: Path
) -> None:
    editor = await launch("vscode", replay=[IMPROVE])
    uri = editor.open("app.py", SOURCE)
    words = "annotate it and flush the print"
    answer = await editor.command(
        "tether.ask", {"uri": uri, "range": GREET.model_dump(), "instruction": words}
    )
    [pid] = answer["shown"]
    await editor.diagnostics_for(uri, 1)
    view = await editor.request("tether/proposal", {"proposalId": pid})
    assert view["task"] == "improve" and view["meta"]["instruction"] == words

    result = await editor.command(
        "tether.accept", {"proposalId": pid, "hunks": [1], "reason": "keep the signature"}
    )
    assert result["outcome"] == "partly_accepted"
    row = rows(store_path(ws, tether_home))[-1]
    assert row["outcome"] == "partly_accepted" and row["hunks"] == [1]
    assert row["reason"] == "keep the signature" and row["data"]["hunks_total"] == 2
    assert proposal_state(store_path(ws, tether_home), pid) == "accepted"


async def test_refine_and_regenerate_replace_the_shown_proposal(
    launch: Launch, ws: Path, tether_home: Path
) -> None:
    editor = await launch("neovim", replay=[IMPROVE])
    uri = editor.open("app.py", SOURCE)
    [first] = await editor.propose(uri, GREET)
    [diag] = await editor.diagnostics_for(uri, 1)
    titles = [a.title for a in await editor.code_actions(uri, GREET, [diag])]
    assert {"Tether: Regenerate", "Tether: Refine…"} <= set(titles)

    # Refine without words is a clear error, and the proposal stays as it was
    try:
        await editor.command("tether.refine", {"proposalId": first})
        raise AssertionError("refine without words must fail")
    except JsonRpcException as err:
        assert "say in a few words what should change" in err.message
    assert proposal_state(store_path(ws, tether_home), first) == "pending"

    refined = await editor.command(
        "tether.refine", {"proposalId": first, "instruction": "only flush the print"}
    )
    [second] = refined["proposalIds"]
    assert refined["replaced"] == first and second != first
    log = rows(store_path(ws, tether_home))
    old = next(r for r in log if r["proposal_id"] == first and r["outcome"] == "rejected")
    assert old["reason"] == "only flush the print"  # the words are training signal
    assert old["data"] == {"replaced_by": [second], "via": "refine"}
    view = await editor.request("tether/proposal", {"proposalId": second})
    assert view["meta"]["replaces"] == first
    assert view["meta"]["instruction"] == "only flush the print"

    regenerated = await editor.command("tether.regenerate", {"proposalId": second})
    [third] = regenerated["proposalIds"]
    log = rows(store_path(ws, tether_home))
    old = next(r for r in log if r["proposal_id"] == second and r["outcome"] == "rejected")
    assert old["reason"] is None and old["data"]["via"] == "regenerate"
    # the earlier words carry over to the regenerated answer
    view = await editor.request("tether/proposal", {"proposalId": third})
    assert view["meta"]["instruction"] == "only flush the print"
