"""Tether's requests and the remaining commands: history, profile, proposal, pin, verify,
and training progress."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from tether.core.types import Range

from .conftest import IMPROVE, IMPROVE_TOTAL, SOURCE, TOTAL, Launch, store_path
from .test_lsp_proposals import rows

GREET = Range.of(0, 0, 3, 18)


async def test_history_profile_and_proposal_return_what_the_store_holds(
    launch: Launch, ws: Path, tether_home: Path
) -> None:
    editor = await launch("neovim", replay=[IMPROVE, IMPROVE_TOTAL])
    uri = editor.open("app.py", SOURCE)
    [first] = await editor.propose(uri, GREET)
    await editor.command("tether.accept", {"proposalId": first})
    [second] = await editor.propose(uri, TOTAL)
    # Show diff (resolved lazily: these are Neovim's capabilities) changes nothing
    [diag] = await editor.diagnostics_for(uri, 1)
    actions = await editor.code_actions(uri, TOTAL, [diag])
    shown = await editor.run_action(next(a for a in actions if a.title == "Tether: Show diff"))
    assert "-        result = result + v\n+        result += v" in shown["diff"]
    await editor.message("+        result += v", lsp.MessageType.Info)
    await editor.command("tether.reject", {"proposalId": second, "reason": "not now"})

    log = rows(store_path(ws, tether_home))
    page = await editor.request("tether/history", {"offset": 0, "limit": 50})
    assert page["total"] == len(log) == 4
    assert [i["seq"] for i in page["items"]] == [4, 3, 2, 1]  # newest first
    assert [i["outcome"] for i in page["items"]] == [r["outcome"] for r in reversed(log)]
    with sqlite3.connect(store_path(ws, tether_home)) as conn:
        hashes = [h for (h,) in conn.execute("SELECT hash FROM decisions ORDER BY seq DESC")]
    assert [i["hash"] for i in page["items"]] == hashes

    paged = await editor.request("tether/history", {"offset": 1, "limit": 2})
    assert [i["seq"] for i in paged["items"]] == [3, 2] and paged["total"] == 4
    rejected = await editor.request(
        "tether/history", {"offset": 0, "limit": 10, "filter": {"outcome": "rejected"}}
    )
    assert rejected["total"] == 1 and rejected["items"][0]["reason"] == "not now"
    by_id = await editor.request("tether/history", {"filter": {"proposalId": first}, "limit": 10})
    assert [i["outcome"] for i in by_id["items"]] == ["accepted", "proposed"]

    profile = await editor.request("tether/profile", {})
    assert set(profile) >= {"classes", "adapters", "training"}
    classes = {c["classKey"]: c for c in profile["classes"]}
    assert set(classes) == {r["class_key"] for r in log}
    assert sum(c["accepts"] for c in classes.values()) == 1
    assert sum(c["rejects"] for c in classes.values()) == 1
    assert classes[log[1]["class_key"]]["accepts"] == 1
    assert profile["adapters"] == []
    assert profile["training"]["state"] == "idle"

    view = await editor.request("tether/proposal", {"proposalId": first})
    assert view["id"] == first and view["state"] == "accepted"
    assert view["original"] == SOURCE[: SOURCE.index("\n\n")]
    assert [h["index"] for h in view["hunks"]] == [0, 1]
    assert view["hunks"][1]["newText"] == "    print(message, flush=True)\n"
    assert view["proposed"].startswith("def greet(name: str) -> str:")
    assert "+    print(message, flush=True)" in view["diff"]
    assert [d["outcome"] for d in view["decisions"]] == ["proposed", "accepted"]


async def test_pin_and_verify(launch: Launch, ws: Path, tether_home: Path) -> None:
    editor = await launch()
    pinned = await editor.command(
        "tether.pin", {"classKey": "improve:python:code:1-3", "mode": "always_ask"}
    )
    row = rows(store_path(ws, tether_home))[-1]
    assert row["outcome"] == "pinned" and row["class_key"] == "improve:python:code:1-3"
    assert pinned["seq"] == 1
    recorded = await editor.decision("pinned")
    assert recorded["data"] == {"mode": "always_ask"}
    profile = await editor.request("tether/profile", {})
    assert [c["pin"] for c in profile["classes"]] == ["always_ask"]

    ok = await editor.command("tether.verify", {})
    assert ok["ok"] is True and ok["rows"] == 1 and ok["summary"].startswith("chain OK")

    with sqlite3.connect(store_path(ws, tether_home)) as conn:  # tamper with the log
        conn.execute("UPDATE decisions SET body = replace(body, 'always_ask', 'never_auto')")
    broken = await editor.command("tether.verify", {})
    assert broken["ok"] is False and broken["firstBrokenSeq"] == 1
    await editor.message("BROKEN at row 1", lsp.MessageType.Error)

    with pytest.raises(JsonRpcException) as err:
        await editor.command("tether.pin", {"classKey": "x", "mode": "sometimes"})
    assert "pin mode must be one of always_ask, never_auto" in str(err.value)


async def test_train_now_reports_progress_and_status(launch: Launch) -> None:
    """With no decisions yet the run ends quickly (skipped), through the whole protocol."""
    editor = await launch()
    started = await editor.command("tether.trainNow", {})
    assert started["started"] is True
    final = await editor.client.wait_until(
        lambda: next(
            (s for s in editor.training if s["state"] == "idle" and s.get("lastResult")), None
        ),
        "the training's final status",
    )
    assert final["lastResult"]["status"] == "skipped"
    assert any(s["state"] == "preparing" for s in editor.training)

    def bar_ended() -> list | None:
        for values in editor.client.progress_reports.values():
            if values and values[-1].kind == "end":
                return values
        return None

    values = await editor.client.wait_until(bar_ended, "the training progress bar to end")
    kinds = [v.kind for v in values]
    assert kinds[0] == "begin" and kinds[-1] == "end" and "report" in kinds
    assert values[0].title == "Tether: training"
    assert values[-1].message.startswith("skipped")
    await editor.message("Tether training skipped")

    cancelled = await editor.command("tether.cancelTraining", {})
    assert cancelled == {"cancelled": False}  # nothing is running any more


async def test_each_workspace_folder_has_its_own_store(
    launch: Launch, tmp_path: Path, tether_home: Path
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    editor = await launch(folders=[one, two])
    editor.root = one
    first = editor.open("app.py", SOURCE)
    editor.root = two
    second = editor.open("app.py", SOURCE)
    [a] = await editor.propose(first, GREET)
    [b] = await editor.propose(second, GREET)
    await editor.command("tether.accept", {"proposalId": b})
    assert [(r["proposal_id"], r["outcome"]) for r in rows(store_path(one, tether_home))] == [
        (a, "proposed")
    ]
    assert [r["outcome"] for r in rows(store_path(two, tether_home))] == ["proposed", "accepted"]
    assert rows(store_path(two, tether_home))[0]["path"] == "app.py"  # relative to its folder
