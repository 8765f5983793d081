"""Training-signal extraction follows each rule of the design."""

from __future__ import annotations

from tether.core.response_format import render_completion
from tether.core.types import Actor, Outcome
from tether.decisions import DecisionStore
from tether.decisions.signals import load_signals

from .helpers import ORIGINAL, PROPOSED, make_proposal


async def _propose(store: DecisionStore, **kw):  # type: ignore[no-untyped-def]
    p = make_proposal(**kw)
    await store.add_proposal(p)
    return p


async def test_accept_and_reject_become_kto_labels(store: DecisionStore) -> None:
    a = await _propose(store)
    r = await _propose(store)
    await store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=a.id)
    await store.record(Outcome.REJECTED, actor=Actor.USER, proposal_id=r.id, reason="no")
    sig = await load_signals(store)
    assert [(e.proposal_id, e.label, e.source) for e in sig.kto] == [
        (a.id, True, "accept"),
        (r.id, False, "reject"),
    ]
    assert sig.kto[0].prompt == a.prompt and sig.kto[0].completion == a.completion
    assert sig.dpo == []


async def test_policy_decisions_are_not_evidence(store: DecisionStore) -> None:
    p = await _propose(store)
    q = await _propose(store)
    await store.record(Outcome.AUTO_APPLIED, actor=Actor.POLICY, proposal_id=p.id)
    await store.record(Outcome.SUPPRESSED, actor=Actor.POLICY, proposal_id=q.id)
    assert (await load_signals(store)).labels == 0


async def test_correction_becomes_a_pair_and_replaces_the_accept(store: DecisionStore) -> None:
    p = await _propose(store)
    await store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=p.id)
    final = PROPOSED.replace("hello", "hi")
    await store.record(Outcome.CORRECTED, actor=Actor.USER, proposal_id=p.id, after=final)
    sig = await load_signals(store)
    assert sig.kto == []
    [pair] = sig.dpo
    assert pair.source == "correction"
    assert pair.chosen == render_completion(final) and pair.rejected == p.completion


async def test_partial_accept_becomes_a_pair_with_the_applied_hunks(store: DecisionStore) -> None:
    p = await _propose(store)
    assert len(p.hunks) == 2
    await store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=p.id, hunks=[1])
    [pair] = (await load_signals(store)).dpo
    expected = ORIGINAL.replace("if name == None", "if name is None")
    assert pair.source == "partial" and pair.chosen == render_completion(expected)


async def test_picked_candidate_beats_the_others(store: DecisionStore) -> None:
    texts = [PROPOSED, PROPOSED.replace("f'", "'"), ORIGINAL.upper()]
    p = await _propose(store, candidates=texts)
    await store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=p.id, candidate=1)
    sig = await load_signals(store)
    assert sig.kto[0].completion == render_completion(texts[1])
    assert sorted((d.chosen, d.rejected) for d in sig.dpo) == sorted(
        (render_completion(texts[1]), render_completion(t)) for t in (texts[0], texts[2])
    )
    assert {d.source for d in sig.dpo} == {"pick"}


async def test_reject_then_rewrite_becomes_a_pair(store: DecisionStore) -> None:
    p = await _propose(store)
    await store.record(Outcome.REJECTED, actor=Actor.USER, proposal_id=p.id)
    mine = "name = 'x'\nprint('hello', name)\n"
    await store.record(Outcome.REWRITTEN, actor=Actor.USER, proposal_id=p.id, after=mine)
    sig = await load_signals(store)
    assert [e.label for e in sig.kto] == [False]
    [pair] = sig.dpo
    assert pair.source == "rewrite" and pair.chosen == render_completion(mine)


async def test_signal_window_by_sequence(store: DecisionStore) -> None:
    first = await _propose(store)
    rec = await store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=first.id)
    second = await _propose(store)
    await store.record(Outcome.REJECTED, actor=Actor.USER, proposal_id=second.id)
    later = await load_signals(store, after_seq=rec.seq)
    assert [e.proposal_id for e in later.kto] == [second.id]
