"""The policy in the editor: ask (risky → modal prompt), auto (applied, said so), quiet."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp

from tether.agent import classify
from tether.agent.kinds import kind_of
from tether.config import ClassSettings
from tether.core.diff import make_hunks
from tether.core.types import Actor, Outcome, Position, Proposal, Range
from tether.decisions import DecisionStore

from .conftest import BOTH, GREET_IMPROVED, RISKY, SOURCE, Launch, store_path
from .test_lsp_proposals import proposal_state, rows

GREET = Range.of(0, 0, 3, 18)
ORIGINAL = SOURCE[: SOURCE.index("\n\n")]
#: Deterministic policy; and no automatic training on the seeded (mature) profile.
#: No random asks in auto *or* quiet classes (quiet's own rate asked one run in 20)
NO_EXPLORATION = {
    "policy": {"exploration": 0, "quietExploration": 0},
    "training": {"autoSchedule": False},
}


async def seed(db: Path, outcome: Outcome, count: int) -> str:
    """`count` past verdicts on proposals of the same class as the greet improvement."""
    improved = GREET_IMPROVED.rstrip("\n")
    kind = kind_of(ORIGINAL, improved)  # the kind the agent gives the replayed answer
    key, _ = classify("app.py", "improve", "python", ORIGINAL, improved, ClassSettings(), kind)
    store = await DecisionStore.open(db)
    try:
        for i in range(count):
            p = Proposal(
                uri="file:///elsewhere/app.py",
                path="app.py",
                range=GREET,
                task="improve",
                class_key=key,
                original=ORIGINAL,
                proposed=GREET_IMPROVED,
                hunks=make_hunks(ORIGINAL, GREET_IMPROVED, Position(line=0, character=0)),
                rationale=f"past {i}",
                model="replay:past",
            )
            await store.add_proposal(p)
            await store.record(outcome, actor=Actor.USER, proposal_id=p.id)
    finally:
        await store.close()
    return key


@BOTH
async def test_risky_ask_prompts_and_approve_applies(
    launch: Launch, kind: str, ws: Path, tether_home: Path
) -> None:
    editor = await launch(kind, replay=[RISKY], options=NO_EXPLORATION)
    editor.prompt_answers.extend(["Explain", "Approve"])
    uri = editor.open("app.py", SOURCE)
    [pid] = await editor.propose(uri, GREET)
    accepted = await editor.decision("accepted", pid)
    assert accepted["actor"] == "user"
    first, second = editor.prompts
    assert "risky: deletes_code" in first.message and "Drop the return." in first.message
    assert [a.title for a in first.actions or []] == [  # never Approve as the default
        "Explain",
        "Reject",
        "Always ask for this kind",
        "Approve",
    ]
    assert second.message == first.message  # asked again after explaining
    explained = await editor.message("Why Tether asks:")
    assert "-    return message" in explained  # the diff
    await editor.client.wait_until(
        lambda: "return" not in editor.text(uri).split("\n\n\n")[0], "the edit"
    )
    assert proposal_state(store_path(ws, tether_home), pid) == "accepted"


async def test_risky_prompt_reject_and_always_ask(
    launch: Launch, ws: Path, tether_home: Path
) -> None:
    editor = await launch(replay=[RISKY], options=NO_EXPLORATION)
    editor.prompt_answers.extend(["Reject", "Always ask for this kind"])
    uri = editor.open("app.py", SOURCE)
    [rejected] = await editor.propose(uri, GREET)
    await editor.decision("rejected", rejected)
    [kept] = await editor.propose(uri, GREET)
    pinned = await editor.decision("pinned")
    assert pinned["data"] == {"mode": "always_ask"}
    assert pinned["classKey"] == rows(store_path(ws, tether_home))[-2]["class_key"]
    await editor.message("will always ask")
    # still pending, still shown: the user decides later
    [diag] = await editor.diagnostics_for(uri, 1)
    assert diag.data == {"proposalId": kept}
    assert diag.severity == lsp.DiagnosticSeverity.Information  # risky ones stand out
    assert proposal_state(store_path(ws, tether_home), kept) == "pending"


async def test_auto_policy_applies_and_says_why(
    launch: Launch, ws: Path, tether_home: Path
) -> None:
    await seed(store_path(ws, tether_home), Outcome.ACCEPTED, 40)
    editor = await launch(options=NO_EXPLORATION)
    uri = editor.open("app.py", SOURCE)
    result = await editor.command(
        "tether.propose", {"uri": uri, "range": GREET.model_dump(), "task": "improve"}
    )
    [pid] = result["autoApplied"]
    auto = await editor.decision("auto_applied", pid)
    assert auto["actor"] == "policy" and auto["reason"].startswith("auto:")
    assert "auto threshold" in auto["reason"] and auto["data"]["policy"]
    message = await editor.message("Tether applied: Annotate greet and flush.")
    assert "auto:" in message
    await editor.client.wait_until(lambda: editor.text(uri).startswith(GREET_IMPROVED), "edit")
    assert editor.prompts == [] and editor.client.diagnostics.get(uri, []) == []


async def test_quiet_policy_records_suppressed_and_shows_nothing(
    launch: Launch, ws: Path, tether_home: Path
) -> None:
    await seed(store_path(ws, tether_home), Outcome.REJECTED, 40)
    editor = await launch(options=NO_EXPLORATION)
    uri = editor.open("app.py", SOURCE)
    result = await editor.command(
        "tether.propose", {"uri": uri, "range": GREET.model_dump(), "task": "improve"}
    )
    assert len(result["suppressed"]) == 1, result
    [pid] = result["suppressed"]
    assert result["shown"] == [] and result["autoApplied"] == []
    row = rows(store_path(ws, tether_home))[-1]
    assert (row["outcome"], row["actor"], row["proposal_id"]) == ("suppressed", "policy", pid)
    assert row["reason"].startswith("quiet:")
    await editor.command("tether.verify", {})  # a round trip after the proposal
    assert editor.client.diagnostics.get(uri, []) == [] and editor.edits == []
    assert editor.prompts == []
