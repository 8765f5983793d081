"""Living tether in the real VS Code workbench (code-server + the built .vsix): a decision an
API client made through `tether serve` waits in the panel's "From production", is reviewed
there (Confirm), becomes the user's own verdict in the store, opens read-only as a diff, and
the Profile tab counts it; the Profile tab's Student model → Choose… sets tether.model."""

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


async def _seed(db: Path) -> int:
    """A proposal made through the HTTP API and the client's reject, awaiting review
    (written with the functions `tether serve` uses, before the editor starts)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    store = await DecisionStore.open(db)
    try:
        await store.add_proposal(
            Proposal(
                id="api-proposal",
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
        row = await production.record_decision(
            store, "api-proposal", "reject", token_id="tok_vscode", reason="breaks the API"
        )
        return row.seq
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


def test_a_production_decision_reviewed_in_the_panel(tmp_path: Path) -> None:
    setup(e2e=True)
    vsix = build_vsix()
    # workbench() puts the workspace at <root>/examples and the data at <root>/tether-home
    db = WorkspacePaths(tmp_path / "examples", tmp_path / "tether-home").db
    seq = asyncio.run(_seed(db))
    with workbench(tmp_path, vsix, []) as wb:
        assert wb.db == db
        shown = wb.driver.step("productionReview", action="confirm")
        # the students this machine can run, offered in the Profile tab; the pick is the setting
        student = wb.driver.step("chooseStudent", label="embedded:smollm2", file=str(wb.settings))

    assert shown["seq"] == seq and shown["count"] == "1 to review"
    assert "rejected by an API client" in shown["details"] and "tok_vscode" in shown["details"]
    assert "breaks the API" in shown["details"] and "+    return a + b" in shown["details"]
    assert shown["status"].startswith("Confirmed: now a decision of yours")
    assert shown["review"] == "confirm"
    assert "service.py: production by API client tok_vscode" in shown["opened"]
    assert "0 awaiting review, 1 confirmed" in shown["tally"]

    assert student["current"].startswith("Proposals come from replay:")
    assert any(o.startswith("embedded:smollm2") for o in student["offered"]), student
    assert any(o.startswith("replay:") and "(now)" in o for o in student["offered"]), student
    assert student["written"] == "embedded:smollm2"
    assert student["shown"] == "Proposals come from embedded:smollm2."

    rows = _log(db)
    verdict = next(r for r in rows if r.data.get("production") is True)
    assert (verdict.outcome, verdict.actor.value, verdict.proposal_id) == (
        Outcome.REJECTED,
        "user",
        "api-proposal",
    )
    assert verdict.data == {"production": True, "review_of": seq, "action": "confirm"}
    [reviewed] = [r for r in rows if r.outcome == Outcome.REVIEWED]
    assert reviewed.data["review_of"] == seq and reviewed.seq > verdict.seq
