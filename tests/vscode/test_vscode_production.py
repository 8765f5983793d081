"""Living tether in the real VS Code workbench (code-server + the built .vsix): decisions an
API client made through `tether serve` wait in the panel's "From production", are reviewed
there (Confirm a reject; Overturn an accept, with the reason asked for), become the user's
own verdicts in the store, open read-only as a diff, and the Profile tab counts them; the
Profile tab's Student model → Choose… sets tether.model."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tether.core.diff import make_hunks
from tether.core.types import Outcome, Position, Proposal, Range
from tether.decisions import DecisionStore
from tether.paths import WorkspacePaths
from tether.publish import production

from .harness import build_vsix, setup
from .workbench import workbench

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

ORIGINAL = "def total(a, b): return a+b\n"
PROPOSED = "def total(a: int, b: int) -> int:\n    return a + b\n"


async def _api_decision(store: DecisionStore, pid: str, verdict: str) -> int:
    """A proposal made through the HTTP API and a client's verdict on it, awaiting review
    (written with the functions `tether serve` uses)."""
    await store.add_proposal(
        Proposal(
            id=pid,
            uri="file:///api/service.py",
            path="service.py",
            range=Range.of(0, 0, 1, 0),
            task="improve",
            class_key="improve|python|src|s",
            original=ORIGINAL,
            proposed=PROPOSED,
            hunks=make_hunks(ORIGINAL, PROPOSED, Position(line=0, character=0)),
            model="replay:test",
            meta={"channel": "api", "token_id": "tok_vscode"},
        )
    )
    reason = "breaks the API" if verdict == "reject" else None
    row = await production.record_decision(
        store, pid, verdict, token_id="tok_vscode", reason=reason
    )
    return row.seq


async def _seed(db: Path) -> dict[str, int]:
    """Before the editor starts: the client's accept, then its reject (newest first in
    the panel)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    store = await DecisionStore.open(db)
    try:
        return {
            "api-accepted": await _api_decision(store, "api-accepted", "accept"),
            "api-rejected": await _api_decision(store, "api-rejected", "reject"),
        }
    finally:
        await store.close()


def _log(db: Path) -> list:
    async def go() -> list:
        store = await DecisionStore.open(db, create=False)
        try:
            return await store.decisions()
        finally:
            await store.close()

    return asyncio.run(go())


def test_production_decisions_reviewed_in_the_panel(tmp_path: Path) -> None:
    setup(e2e=True)
    vsix = build_vsix()
    # workbench() puts the workspace at <root>/examples and the data at <root>/tether-home
    db = WorkspacePaths(tmp_path / "examples", tmp_path / "tether-home").db
    seqs = asyncio.run(_seed(db))
    with workbench(tmp_path, vsix, []) as wb:
        assert wb.db == db
        confirmed = wb.driver.step("productionReview", action="confirm", tally="1 confirmed")
        overturned = wb.driver.step(
            "productionReview",
            action="overturn",
            reason="it breaks the callers",
            tally="1 overturned",
        )
        # the students this machine can run, offered in the Profile tab; the pick is the setting
        student = wb.driver.step("chooseStudent", label="embedded:smollm2", file=str(wb.settings))

    assert confirmed["seq"] == seqs["api-rejected"] and confirmed["count"] == "2 to review"
    details = confirmed["details"]
    assert "rejected by an API client" in details and "tok_vscode" in details
    assert "breaks the API" in details and "+    return a + b" in details
    assert confirmed["status"].startswith("Confirmed: now a decision of yours")
    assert confirmed["review"] == "confirm"
    assert "service.py: production by API client tok_vscode" in confirmed["opened"]
    assert "1 awaiting review, 1 confirmed" in confirmed["tally"]

    assert overturned["seq"] == seqs["api-accepted"] and overturned["count"] == "1 to review"
    assert overturned["status"].startswith("Overturned: now a decision of yours")
    assert overturned["review"] == "overturn"
    assert "0 awaiting review, 1 confirmed, 1 overturned" in overturned["tally"]

    assert student["current"].startswith("Proposals come from replay:")
    assert any(o.startswith("embedded:smollm2") for o in student["offered"]), student
    assert any(o.startswith("replay:") and "(now)" in o for o in student["offered"]), student
    assert student["written"] == "embedded:smollm2"
    assert student["shown"] == "Proposals come from embedded:smollm2."

    rows = _log(db)
    verdicts = {r.proposal_id: r for r in rows if r.data.get("production") is True}
    assert {pid: (r.outcome, r.actor.value) for pid, r in verdicts.items()} == {
        "api-rejected": (Outcome.REJECTED, "user"),
        "api-accepted": (Outcome.REJECTED, "user"),  # the accept, overturned
    }
    assert verdicts["api-rejected"].data == {
        "production": True,
        "review_of": seqs["api-rejected"],
        "action": "confirm",
    }
    assert verdicts["api-accepted"].reason == "it breaks the callers"
    reviewed = {
        r.data["review_of"]: r.data["action"] for r in rows if r.outcome == Outcome.REVIEWED
    }
    assert reviewed == {seqs["api-rejected"]: "confirm", seqs["api-accepted"]: "overturn"}
