"""Living tether on a real store: API decisions wait for review, and only reviewed ones
become training signal; confirm, overturn and discard; the separate tally."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tether.cli.main import main
from tether.core.diff import make_hunks
from tether.core.types import Outcome, Position, Proposal, ProposalState, Range
from tether.decisions import DecisionStore
from tether.decisions.signals import load_signals
from tether.publish import production

from .conftest import ORIGINAL, TYPED


async def _api_proposal(store: DecisionStore, pid: str, *, channel: str = "api") -> Proposal:
    proposal = Proposal(
        id=pid,
        uri=f"file:///ws/{pid}.py",
        path=f"{pid}.py",
        range=Range.of(0, 0, 2, 0),
        task="improve",
        class_key="improve:python:code:1-3",
        original=ORIGINAL,
        proposed=TYPED,
        hunks=make_hunks(ORIGINAL, TYPED, Position(line=0, character=0)),
        prompt="<|im_start|>user\nImprove<|im_end|>\n<|im_start|>assistant\n",
        completion=f"```python\n{TYPED}```",
        model="replay:test",
        meta={"channel": channel, "token_id": "tok_abc"},
    )
    await store.add_proposal(proposal)
    return proposal


async def _signal_ids(store: DecisionStore) -> set[str]:
    signals = await load_signals(store)
    return {k.proposal_id for k in signals.kto} | {d.proposal_id for d in signals.dpo}


async def test_only_reviewed_production_decisions_teach(store: DecisionStore) -> None:
    for pid in ("p1", "p2", "p3", "p4"):
        await _api_proposal(store, pid)
    r1 = await production.record_decision(store, "p1", "accept", token_id="tok_abc")
    r2 = await production.record_decision(store, "p2", "reject", token_id="tok_abc", reason="no")
    r3 = await production.record_decision(
        store, "p3", "correct", token_id="tok_abc", text="x = 1\n"
    )
    r4 = await production.record_decision(store, "p4", "accept", token_id="tok_abc")
    assert await _signal_ids(store) == set()
    assert [i.seq for i in await production.pending(store)] == [r1.seq, r2.seq, r3.seq, r4.seq]
    assert (await store.get_proposal("p1")).state == ProposalState.PENDING

    confirmed = await production.review(store, r1.seq, "confirm")
    assert [r.outcome for r in confirmed] == [Outcome.ACCEPTED, Outcome.REVIEWED]
    assert confirmed[0].data == {"production": True, "review_of": r1.seq, "action": "confirm"}
    overturned = await production.review(store, r2.seq, "overturn")
    assert [r.outcome for r in overturned] == [Outcome.ACCEPTED, Outcome.REVIEWED]
    corrected = await production.review(store, r3.seq, "confirm")
    assert [r.outcome for r in corrected] == [Outcome.ACCEPTED, Outcome.CORRECTED, Outcome.REVIEWED]
    assert corrected[1].after == "x = 1\n"
    discarded = await production.review(store, r4.seq, "discard")
    assert [r.outcome for r in discarded] == [Outcome.EXPIRED, Outcome.REVIEWED]

    assert await _signal_ids(store) == {"p1", "p2", "p3"}
    counts = await production.counts(store)
    assert (counts.pending, counts.confirmed, counts.overturned, counts.discarded) == (0, 2, 1, 1)
    assert counts.by_verdict == {"accept": 2, "reject": 1, "correct": 1}
    assert (await store.verify()).ok


async def test_bad_production_input_is_refused_and_loses_nothing(store: DecisionStore) -> None:
    await _api_proposal(store, "api")
    await _api_proposal(store, "editor", channel="editor")
    with pytest.raises(production.ProductionNotFound, match="no proposal 'nope'"):
        await production.record_decision(store, "nope", "accept", token_id="t")
    with pytest.raises(production.ProductionError, match="made in the editor"):
        await production.record_decision(store, "editor", "accept", token_id="t")
    with pytest.raises(production.ProductionError, match="needs the corrected text"):
        await production.record_decision(store, "api", "correct", token_id="t")
    row = await production.record_decision(store, "api", "accept", token_id="t")
    with pytest.raises(production.ProductionError, match="decided twice"):
        await production.record_decision(store, "api", "reject", token_id="t")
    with pytest.raises(production.ProductionNotFound, match="not a production decision"):
        await production.review(store, 1, "confirm")
    await production.review(store, row.seq, "overturn")
    with pytest.raises(production.ProductionError, match="already reviewed"):
        await production.review(store, row.seq, "confirm")
    head, _ = await store.head()
    assert head == 5  # 2 proposals, 1 production row, the review: a reject and its reviewed row


def test_tether_profile_shows_the_production_tally_and_savings(
    tmp_path: Path, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "cli.db"

    async def build() -> None:
        store = await DecisionStore.open(db)
        try:
            for pid in ("p1", "p2"):
                await _api_proposal(store, pid)
            done = await production.record_decision(store, "p1", "accept", token_id="tok_abc")
            await production.record_decision(store, "p2", "reject", token_id="tok_abc")
            await production.review(store, done.seq, "confirm")
        finally:
            await store.close()

    asyncio.run(build())
    where = ["--db", str(db), "--workspace", str(workspace)]
    assert main(["profile", *where]) == 0
    text = capsys.readouterr().out
    assert "production (tether serve): 1 awaiting review, 1 confirmed, 0 overturned" in text
    assert "review them with `tether review`" in text
    assert "no teacher is configured" in text
    assert main(["profile", "--json", *where]) == 0
    body = json.loads(capsys.readouterr().out)
    assert (body["production"]["pending"], body["production"]["confirmed"]) == (1, 1)
    assert body["production"]["by_verdict"] == {"accept": 1, "reject": 1}
    assert body["savings"]["teacher"] is None
