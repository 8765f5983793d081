"""Living tether: a decision made through `tether serve` is reviewed from the editor's side,
and only then becomes training signal and profile evidence."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from pygls.exceptions import JsonRpcException

from serve.conftest import ORIGINAL, TYPED, start_server, stop_server
from tether.core.response_format import render_completion

from .conftest import Launch, store_path
from .test_lsp_proposals import rows


async def test_a_production_decision_reviewed_from_the_lsp_side(
    launch: Launch, ws: Path, tmp_path: Path, tether_home: Path
) -> None:
    replay = tmp_path / "api-replay.jsonl"
    replay.write_text(
        json.dumps({"completion": render_completion(TYPED, "python", "Hints.")}) + "\n"
    )
    server = start_server(ws, model=f"replay:{replay}")
    try:
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=60
        ) as api:
            made = (await api.post("/v1/propose", json={"code": ORIGINAL, "path": "api.py"})).json()
            [proposal] = made["proposals"]
            decided = await api.post(
                "/v1/decisions", json={"proposal_id": proposal["id"], "decision": "reject"}
            )
            assert decided.status_code == 200
            seq = decided.json()["seq"]
    finally:
        stop_server(server)

    editor = await launch()
    # the students the model setting can name here (engines are probed on loopback only)
    students = await editor.request("tether/students", {})
    offered = [c["model"] for c in students["choices"]]
    assert "embedded:smollm2" in offered and students["current"] in offered
    history = await editor.request("tether/history", {"filter": {"outcome": ["production"]}})
    assert [i["seq"] for i in history["items"]] == [seq]
    profile_before = await editor.request("tether/profile", {})
    assert profile_before["production"]["pending"] == 1
    assert profile_before["savings"]["teacher"] is None  # no teacher: nobody was replaced
    listed = await editor.request("tether/production", {"pendingOnly": True})
    [item] = listed["items"]
    assert (item["seq"], item["proposalId"], item["verdict"], item["review"]) == (
        seq,
        proposal["id"],
        "reject",
        "pending",
    )
    assert item["tokenId"] and listed["counts"]["byVerdict"] == {"reject": 1}

    result = await editor.command("tether.reviewProduction", {"seq": seq, "action": "confirm"})
    assert result["proposalId"] == proposal["id"] and result["pending"] == 0
    log = rows(store_path(ws, tether_home))
    reviewed = [log[n - 1] for n in result["recorded"]]  # bodies in seq order, from 1
    assert [r["outcome"] for r in reviewed] == ["rejected", "reviewed"]
    assert reviewed[0]["data"] == {"production": True, "review_of": seq, "action": "confirm"}
    assert reviewed[1]["data"]["review_of"] == seq

    # now it is the user's verdict: the profile counts it
    profile_after = await editor.request("tether/profile", {})
    assert profile_after["classes"] != profile_before["classes"]
    assert (profile_after["production"]["pending"], profile_after["production"]["confirmed"]) == (
        0,
        1,
    )
    assert (await editor.request("tether/production", {"pendingOnly": True}))["items"] == []
    [done] = (await editor.request("tether/production", {}))["items"]
    assert (done["review"], done["reviewedSeq"]) == ("confirm", result["recorded"][-1])

    with pytest.raises(JsonRpcException) as again:
        await editor.command("tether.reviewProduction", {"seq": seq, "action": "discard"})
    assert "already reviewed" in again.value.message
    with pytest.raises(JsonRpcException) as unknown:
        await editor.command("tether.reviewProduction", {"seq": 1, "action": "confirm"})
    assert "not a production decision" in unknown.value.message
