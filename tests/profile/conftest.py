"""Helpers for the profile tests: scripted decision sequences, in memory or in a real store."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import pytest

from tether.core.types import Actor, Outcome, Proposal, Range
from tether.decisions import DecisionRecord, DecisionStore
from tether.profile import MaturityEvent, Profile

USER_OUTCOMES = {"accept": Outcome.ACCEPTED, "reject": Outcome.REJECTED}


class Feed:
    """Builds decision rows with increasing seq and folds them into a Profile (no store)."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.seq = itertools.count(profile.last_seq + 1)
        self.ids = itertools.count(1)
        self.events: list[MaturityEvent] = []

    def row(
        self,
        outcome: Outcome,
        key: str | None,
        actor: Actor,
        pid: str | None,
        data: dict[str, Any] | None = None,
    ) -> None:
        record = DecisionRecord(
            seq=next(self.seq),
            prev_hash="0" * 64,
            hash="0" * 64,
            ts="2025-01-01T00:00:00+00:00",
            outcome=outcome,
            actor=actor,
            class_key=key,
            proposal_id=pid,
            data=data or {},
        )
        self.events += self.profile.observe(record)

    def __call__(self, key: str, steps: Iterable[str]) -> Feed:
        """Each step is one proposal: accept, reject, correct, revert (accept, then undo),
        auto, auto_correct, auto_revert, suppress, rewrite, proposed."""
        for step in steps:
            pid = f"p{next(self.ids)}"
            self.row(Outcome.PROPOSED, key, Actor.SYSTEM, pid)
            if step in USER_OUTCOMES:
                self.row(USER_OUTCOMES[step], key, Actor.USER, pid)
            elif step == "correct":
                self.row(Outcome.ACCEPTED, key, Actor.USER, pid)
                self.row(Outcome.CORRECTED, key, Actor.USER, pid)
            elif step == "revert":
                self.row(Outcome.ACCEPTED, key, Actor.USER, pid)
                self.row(Outcome.CORRECTED, key, Actor.USER, pid, {"reverted": True})
            elif step == "auto_revert":
                self.row(Outcome.AUTO_APPLIED, key, Actor.POLICY, pid)
                self.row(Outcome.CORRECTED, key, Actor.USER, pid, {"reverted": True})
            elif step == "auto":
                self.row(Outcome.AUTO_APPLIED, key, Actor.POLICY, pid)
            elif step == "auto_correct":
                self.row(Outcome.AUTO_APPLIED, key, Actor.POLICY, pid)
                self.row(Outcome.CORRECTED, key, Actor.USER, pid)
            elif step == "suppress":
                self.row(Outcome.SUPPRESSED, key, Actor.POLICY, pid)
            elif step == "rewrite":
                self.row(Outcome.REJECTED, key, Actor.USER, pid)
                self.row(Outcome.REWRITTEN, key, Actor.USER, pid)
            elif step != "proposed":
                raise ValueError(step)
        return self


@pytest.fixture
def feed() -> Callable[[Profile], Feed]:
    return Feed


def make_proposal(class_key: str, number: int) -> Proposal:
    task = class_key.partition(":")[0]
    original = f"def f{number}(x):\n    return x+{number}\n"
    return Proposal(
        uri=f"file:///ws/src/mod{number % 7}.py",
        path=f"src/mod{number % 7}.py",
        range=Range.of(0, 0, 2, 0),
        task=task or "fix",
        class_key=class_key,
        original=original,
        proposed=original.replace("x+", "x + "),
        model="replay:test",
        prompt=f"fix f{number}",
        completion=f"```python\n{original}```",
    )


Step = tuple[str, str]  # (class_key, action)
OnRecord = Callable[[DecisionRecord], Awaitable[Any]]


async def play(
    store: DecisionStore, steps: Iterable[Step], on_record: OnRecord | None = None
) -> list[DecisionRecord]:
    """Record real proposals and decisions; `on_record` sees every row as it is recorded."""
    rows: list[DecisionRecord] = []

    async def keep(record: DecisionRecord) -> None:
        rows.append(record)
        if on_record is not None:
            await on_record(record)

    for i, (key, action) in enumerate(steps):
        if action.startswith("pin:"):
            mode = action.removeprefix("pin:")
            await keep(await store.set_pin(key, None if mode == "none" else mode))
            continue
        p = make_proposal(key, i)
        await keep(await store.add_proposal(p))
        record = store.record
        if action == "accept":
            await keep(await record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=p.id))
        elif action == "reject":
            await keep(
                await record(Outcome.REJECTED, actor=Actor.USER, proposal_id=p.id, reason="no")
            )
        elif action == "correct":
            await keep(await record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=p.id))
            await keep(
                await record(Outcome.CORRECTED, actor=Actor.USER, proposal_id=p.id, after="y")
            )
        elif action == "rewrite":
            await keep(await record(Outcome.REJECTED, actor=Actor.USER, proposal_id=p.id))
            await keep(
                await record(Outcome.REWRITTEN, actor=Actor.USER, proposal_id=p.id, after="z")
            )
        elif action in ("auto", "auto_correct"):
            await keep(
                await record(
                    Outcome.AUTO_APPLIED,
                    actor=Actor.POLICY,
                    proposal_id=p.id,
                    reason="auto: test",
                    data={"policy": {"mean": 0.95}},
                )
            )
            if action == "auto_correct":
                await keep(
                    await record(Outcome.CORRECTED, actor=Actor.USER, proposal_id=p.id, after="w")
                )
        elif action == "suppress":
            await keep(await record(Outcome.SUPPRESSED, actor=Actor.POLICY, proposal_id=p.id))
        elif action == "expire":
            await keep(await record(Outcome.EXPIRED, actor=Actor.SYSTEM, proposal_id=p.id))
        else:
            raise ValueError(action)
    return rows


def mixed_script(n: int, seed: int = 3) -> list[Step]:
    """A varied, deterministic sequence touching every kind of row the profile reads."""
    import random

    rng = random.Random(seed)
    classes = {
        "fix:python:src:small": 0.95,
        "fix:python:tests:small": 0.8,
        "refactor:python:src:large": 0.4,
        "docs:markdown:docs:medium": 0.1,
        "fix:rust:src:small": 0.7,
    }
    steps: list[Step] = []
    for i in range(n):
        key = rng.choice(list(classes))
        r = rng.random()
        if i % 53 == 7:
            steps.append((key, rng.choice(["pin:always_ask", "pin:never_auto", "pin:none"])))
        elif r < 0.05:
            steps.append((key, rng.choice(["auto", "auto_correct", "suppress", "expire"])))
        elif r < 0.1:
            steps.append((key, "correct"))
        elif r < 0.13:
            steps.append((key, "rewrite"))
        else:
            steps.append((key, "accept" if rng.random() < classes[key] else "reject"))
    return steps


@pytest.fixture(name="play")
def play_fixture() -> Callable[..., Awaitable[list[DecisionRecord]]]:
    return play


@pytest.fixture(name="mixed_script")
def mixed_script_fixture() -> Callable[..., list[Step]]:
    return mixed_script
