"""The HTTP API end to end: a real `tether serve` process, a real store, an HTTP client."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from tether.cli.main import main as cli
from tether.config import load_settings
from tether.core.types import Outcome
from tether.decisions import DecisionStore
from tether.decisions.signals import load_signals
from tether.paths import WorkspacePaths
from tether.publish import production

from .conftest import ORIGINAL, TYPED, Server, start_server, stop_server


def _db(ws: Path) -> Path:
    return WorkspacePaths(ws, load_settings(ws).data_root).db


def _propose(server: Server, **body: object) -> dict:
    response = server.client().post("/v1/propose", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_every_route_but_health_needs_the_token(server: Server) -> None:
    assert server.client(None).get("/health").json()["ok"] is True
    for token in (None, "wrong-token"):
        for method, path in (("GET", "/v1/models"), ("POST", "/v1/propose")):
            response = server.client(token).request(method, path, json={})
            assert response.status_code == 401
            assert "bearer token" in response.json()["error"]["message"]
    models = server.client().get("/v1/models")
    assert models.status_code == 200 and models.json()["data"][0]["id"] == "tether"
    # the token is the user's alone, and never printed again once made
    assert stat.S_IMODE(server.token_file.stat().st_mode) == 0o600
    assert server.token_file.read_text().strip() == server.token


def test_propose_decide_and_the_chain(server: Server, capsys) -> None:
    answer = _propose(server, code=ORIGINAL, path="src/snippet.py", task="improve")
    [proposal] = answer["proposals"]
    assert proposal["proposed"].strip() == TYPED.strip()
    assert proposal["mode"] in {"ask", "auto", "quiet"} and proposal["reason"]

    client = server.client()
    decided = client.post(
        "/v1/decisions", json={"proposal_id": proposal["id"], "decision": "reject", "reason": "no"}
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["outcome"] == "production" and decided.json()["review"] == "pending"
    token_id = decided.json()["token_id"]
    assert token_id.startswith("tok_") and server.token not in token_id

    again = client.post("/v1/decisions", json={"proposal_id": proposal["id"], "decision": "accept"})
    assert again.status_code == 409
    unknown = client.post("/v1/decisions", json={"proposal_id": "no-such-id", "decision": "accept"})
    assert unknown.status_code == 404 and "no-such-id" in unknown.json()["error"]["message"]
    bad = client.post(
        "/v1/decisions", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad.status_code == 400 and "not valid JSON" in bad.json()["error"]["message"]
    wrong = client.post("/v1/decisions", json={"proposal_id": proposal["id"], "decision": "maybe"})
    assert wrong.status_code == 400 and "decision" in wrong.json()["error"]["message"]
    huge = client.post("/v1/propose", json={"code": "x = 1\n" * 300_000})
    assert huge.status_code == 413 and huge.json()["error"]["type"] == "too_large"

    db = _db(server.workspace)
    assert server.token.encode() not in db.read_bytes()  # the log holds the token id only
    assert cli(["verify", "-w", str(server.workspace)]) == 0
    assert "chain OK" in capsys.readouterr().out

    async def check() -> None:
        async with await DecisionStore.open(db, create=False) as store:
            rows = await store.decisions_for(proposal["id"])
            assert [r.outcome for r in rows] == [Outcome.PROPOSED, Outcome.PRODUCTION]
            assert rows[1].data["token_id"] == token_id
            stored = await store.get_proposal(proposal["id"])
            assert stored.meta["channel"] == "api" and stored.meta["token_id"] == token_id
            # awaiting review: no training signal yet
            assert not [
                k for k in (await load_signals(store)).kto if k.proposal_id == proposal["id"]
            ]
            assert (await production.counts(store)).pending == 1

    asyncio.run(check())


def test_a_workspace_file_by_path_and_paths_outside_refused(server: Server) -> None:
    answer = _propose(server, path="src/calc.py")
    assert answer["proposals"][0]["path"] == "src/calc.py"
    outside = server.client().post("/v1/propose", json={"path": "../../etc/passwd"})
    assert (
        outside.status_code == 400 and "outside the workspace" in outside.json()["error"]["message"]
    )
    nothing = server.client().post("/v1/propose", json={"task": "improve"})
    assert nothing.status_code == 400


def test_rate_limit(api_workspace: Path) -> None:
    s = start_server(
        api_workspace,
        model=f"replay:{api_workspace / 'replay.jsonl'}",
        extra_toml="[serve]\nrate_limit_per_minute = 3\n",
    )
    try:
        client = s.client()
        codes = [client.get("/v1/models").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert "rate_limit_per_minute" in client.get("/v1/models").json()["error"]["message"]
    finally:
        stop_server(s)


@pytest.mark.slow
def test_chat_completions_with_the_in_process_student(api_workspace: Path) -> None:
    """OpenAI-compatible chat on the real embedded model (transformers, in the server)."""
    s = start_server(api_workspace, model="embedded:smollm2")
    try:
        client = s.client()
        body = {"model": "tether", "messages": [{"role": "user", "content": "Say hi."}]}
        answer = client.post(
            "/v1/chat/completions", json={**body, "max_tokens": 6, "temperature": 0}
        )
        assert answer.status_code == 200, answer.text
        data = answer.json()
        assert data["object"] == "chat.completion" and data["model"] == "embedded:smollm2"
        [choice] = data["choices"]
        assert choice["message"]["role"] == "assistant" and choice["message"]["content"].strip()
        assert choice["finish_reason"] in {"stop", "length"}
        streamed = client.post("/v1/chat/completions", json={**body, "stream": True})
        assert streamed.status_code == 400 and "stream" in streamed.json()["error"]["message"]
        empty = client.post("/v1/chat/completions", json={"messages": []})
        assert empty.status_code == 400
    finally:
        stop_server(s)
