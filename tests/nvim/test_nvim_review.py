"""Living tether in Neovim, against the real server and store: decisions an API client
made through `tether serve` are listed by :TetherReview with their diff, reviewed there and
from :TetherHistory (`R`), and only then recorded as the user's own verdicts."""

from __future__ import annotations

import asyncio

from nvim_harness import Nvim, Project, decision_rows

from tether.core.diff import make_hunks
from tether.core.types import Position, Proposal, Range
from tether.decisions import DecisionStore
from tether.publish import production

ORIGINAL = "def total(a, b): return a+b\n"
PROPOSED = "def total(a: int, b: int) -> int:\n    return a + b\n"


async def _seed(project: Project) -> dict[str, int]:
    """Two proposals made through the HTTP API, each with a client's verdict awaiting
    review, written through the same functions `tether serve` uses."""
    project.db.parent.mkdir(parents=True, exist_ok=True)
    store = await DecisionStore.open(project.db)
    try:
        seqs = {}
        for pid, verdict in (("api-accepted", "accept"), ("api-rejected", "reject")):
            await store.add_proposal(
                Proposal(
                    id=pid,
                    uri="file:///api/service.py",
                    path="service.py",
                    range=Range.of(0, 0, 1, 0),
                    task="improve",
                    class_key="improve:python:code:1-3",
                    original=ORIGINAL,
                    proposed=PROPOSED,
                    hunks=make_hunks(ORIGINAL, PROPOSED, Position(line=0, character=0)),
                    model="replay:test",
                    meta={"channel": "api", "token_id": "tok_nvim"},
                )
            )
            row = await production.record_decision(
                store,
                pid,
                verdict,
                token_id="tok_nvim",
                reason="breaks the API" if verdict == "reject" else None,
            )
            seqs[pid] = row.seq
        return seqs
    finally:
        await store.close()


def test_production_decisions_reviewed_from_neovim(nvim: Nvim, project: Project) -> None:
    seqs = asyncio.run(_seed(project))
    run = nvim.run("review.lua", str(project.file), str(seqs["api-accepted"]))

    lines = run["review_lines"]
    assert run["review_floating"] is True
    assert lines[0].startswith(
        "Production decisions (tether serve): 2 awaiting review, 0 confirmed"
    )
    header = lines[3].split()
    assert header[:4] == ["#", "when", "API", "client"]
    first, second = lines[5], lines[6]
    assert first.split()[0] == str(seqs["api-rejected"])  # newest first
    assert "rejected" in first and "awaiting review" in first and "tok_nvim" in first
    assert "breaks the API" in first
    assert second.split()[0] == str(seqs["api-accepted"]) and "accepted" in second

    expanded = [line[4:] for line in run["expanded_lines"]]  # details are indented 4
    assert "+    return a + b" in expanded and "-def total(a, b): return a+b" in expanded
    assert "proposal   api-rejected" in expanded

    after = run["after_confirm"]
    assert after[0].startswith(
        "Production decisions (tether serve): 1 awaiting review, 1 confirmed"
    )
    assert f"production decision #{seqs['api-rejected']} confirmed" in run["confirm_notice"]

    select = run["select"]
    assert select["kind"] == "tether_review"
    assert select["items"] == [
        "confirm: record the accept as yours (it teaches Tether)",
        "overturn: record a reject instead",
        "discard: nothing is learnt from it",
    ]

    assert run["inputs"] == ["Tether: why reject it? (optional) "]

    # the store: each review is the user's own verdict plus a `reviewed` row naming it
    rows = decision_rows(project.db)
    reviews = [r for r in rows if r["outcome"] == "reviewed"]
    assert {r["body"]["data"]["review_of"]: r["body"]["data"]["action"] for r in reviews} == {
        seqs["api-rejected"]: "confirm",
        seqs["api-accepted"]: "overturn",
    }
    verdicts = {
        r["proposal_id"]: r["outcome"]
        for r in rows
        if r["body"].get("data", {}).get("production") is True
    }
    assert verdicts == {"api-rejected": "rejected", "api-accepted": "rejected"}
    overturned = next(
        r for r in rows if r["proposal_id"] == "api-accepted" and r["outcome"] == "rejected"
    )
    assert overturned["reason"] == "it breaks the callers"  # the user's reason, for memory
    assert all(
        r["actor"] == "user"
        for r in rows
        if r["proposal_id"] in verdicts and r["outcome"] == "rejected"
    )

    profile = "\n".join(run["profile"])
    assert (
        "from tether serve: 0 awaiting review (:TetherReview), 1 confirmed, 1 overturned" in profile
    )
    assert "no teacher is configured" in profile

    health = "\n".join(run["health"])
    students = health.split("student choices", 1)[1]
    assert f'model = "replay:{project.replay}" (now): the current setting' in students
    assert 'model = "embedded:smollm2": SmolLM2-135M in this process' in students
    assert "ERROR" not in health, health
