"""Teacher–student routing: the rule, and acceptance measured from a real decision log."""

from __future__ import annotations

from tether.agent.routing import Acceptance, AcceptanceTracker, choose_route
from tether.config import ClassSettings
from tether.core.types import Actor, Outcome, Proposal, Range
from tether.decisions import DecisionStore


def route(**kw: object):  # type: ignore[no-untyped-def]
    args = {"has_teacher": True, "may_send": True, "acceptance": None, "threshold": 0.6}
    args.update(kw)
    return choose_route(**args)  # type: ignore[arg-type]


def test_no_teacher_means_student() -> None:
    r = route(has_teacher=False)
    assert (r.role, r.shadow) == ("student", False)
    assert "no teacher" in r.reason


def test_never_send_path_stays_with_the_student_even_in_shadow_mode() -> None:
    r = route(may_send=False, shadow=True)
    assert (r.role, r.shadow) == ("student", False)


def test_unmeasured_class_goes_to_the_teacher() -> None:
    assert route().role == "teacher"
    assert route(acceptance=Acceptance(accepted=4, decided=4)).role == "teacher"  # too few


def test_student_takes_over_when_acceptance_clears_the_threshold() -> None:
    assert route(acceptance=Acceptance(accepted=4, decided=5)).role == "student"  # 0.8
    assert route(acceptance=Acceptance(accepted=3, decided=5)).role == "student"  # 0.6
    r = route(acceptance=Acceptance(accepted=2, decided=5))
    assert r.role == "teacher" and "0.40 < 0.60" in r.reason


def test_shadow_mode_asks_both() -> None:
    r = route(shadow=True)
    assert (r.role, r.shadow) == ("teacher", True)
    r = route(shadow=True, acceptance=Acceptance(accepted=9, decided=10))
    assert (r.role, r.shadow) == ("student", True)


def _proposal(class_key: str, role: str) -> Proposal:
    return Proposal(
        uri="file:///w/a.py",
        path="a.py",
        range=Range.of(0, 0, 0, 5),
        task="improve",
        class_key=class_key,
        original="x = 1",
        proposed="x = 2",
        role=role,
    )


async def test_acceptance_tracker_reads_the_log(store: DecisionStore) -> None:
    tracker = AcceptanceTracker(store, ClassSettings())
    small, large = "improve:python:code:1-3", "improve:python:code:4-15"
    verdicts = [
        (small, "student", Outcome.ACCEPTED),
        (large, "student", Outcome.ACCEPTED),
        (small, "student", Outcome.REJECTED),
        (small, "teacher", Outcome.REJECTED),
        ("fix:python:code:1-3", "student", Outcome.ACCEPTED),
    ]
    for key, role, outcome in verdicts:
        p = _proposal(key, role)
        await store.add_proposal(p)
        await store.record(outcome, actor=Actor.USER, proposal_id=p.id)
    # a policy decision is not evidence about the student
    p = _proposal(small, "student")
    await store.add_proposal(p)
    await store.record(Outcome.AUTO_APPLIED, actor=Actor.POLICY, proposal_id=p.id)

    acc = await tracker.acceptance("improve:python:code")  # the route key (no size)
    assert (acc.accepted, acc.decided) == (2, 3)
    assert (await tracker.acceptance(small, "teacher")).decided == 1
    # a correction after an accept turns it into "not accepted as proposed"
    p = _proposal(small, "student")
    await store.add_proposal(p)
    await store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=p.id)
    assert (await tracker.acceptance(small)).accepted == 3
    await store.record(Outcome.CORRECTED, actor=Actor.USER, proposal_id=p.id, after="x = 3")
    acc = await tracker.acceptance(small)
    assert (acc.accepted, acc.decided) == (2, 4)
