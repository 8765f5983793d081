"""TetherService without an editor: stale work, one model call at a time, reviews, watches.

The model is the replay provider behind a gate, so a test decides when the "model"
finishes; the gate is the only stand-in, at the model's edge.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from tests.lsp.conftest import GREET_IMPROVED, IMPROVE, SOURCE, fenced

from tether.agent import Agent
from tether.agent.providers.base import Generation, Provider, until_cancelled
from tether.agent.providers.replay import ReplayProvider
from tether.config import Settings
from tether.core.types import Range
from tether.decisions import DecisionRecord
from tether.service import (
    ProposeOutcome,
    ServiceEvents,
    StaleWork,
    TetherService,
    TextChange,
    WorkCancelled,
)

GREET = Range.of(0, 0, 3, 18)


class GatedProvider(Provider):
    """Replay answers, released only when the test opens the gate."""

    def __init__(self, inner: ReplayProvider) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.gate = asyncio.Event()
        self.started = asyncio.Event()
        self.calls = self.active = self.max_active = 0

    async def generate(self, messages: Sequence[Any], **kwargs: Any) -> Generation:
        self.calls += 1
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        self.started.set()
        try:
            await until_cancelled(self.gate.wait(), kwargs.get("cancel"))
            return await self.inner.generate(messages, **kwargs)
        finally:
            self.active -= 1


class Recorder(ServiceEvents):
    def __init__(self) -> None:
        self.records: list[DecisionRecord] = []
        self.reviews: list[ProposeOutcome] = []
        self.changed = asyncio.Event()

    def decision_recorded(self, record: DecisionRecord) -> None:
        self.records.append(record)
        self.changed.set()

    def review_ready(self, uri: str, outcome: ProposeOutcome) -> None:
        self.reviews.append(outcome)
        self.changed.set()

    async def until(self, predicate: Any) -> None:
        async with asyncio.timeout(30):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[TetherService, GatedProvider, Recorder]]:
    ws = tmp_path / "ws"
    ws.mkdir()
    replay = tmp_path / "replay.jsonl"
    replay.write_text(json.dumps(IMPROVE) + "\n", encoding="utf-8")
    settings = Settings(
        model=f"replay:{replay}", home=tmp_path / "home", review_on_save=True, review_debounce_ms=0
    )
    events = Recorder()
    service = await TetherService.open(ws, settings, events=events)
    provider = GatedProvider(ReplayProvider(replay))
    service.use_agent(Agent(settings, service.spec(), await service.memory(), ws, student=provider))
    service.open_document(f"{ws.as_uri()}/app.py", "python", 1, SOURCE)
    try:
        yield service, provider, events
    finally:
        await service.close()


def _uri(service: TetherService) -> str:
    return f"{service.workspace.as_uri()}/app.py"


def _edit(service: TetherService, version: int, rng: Range, text: str) -> None:
    service.change_document(_uri(service), version, [TextChange(range=rng, text=text)])


async def test_an_edit_during_generation_drops_the_run(setup) -> None:
    service, provider, _ = setup
    req = service.request_for(_uri(service), GREET, "improve")
    run = asyncio.ensure_future(service.propose(req))
    await provider.started.wait()
    _edit(service, 2, Range.of(10, 17, 10, 17), "  # sum")
    with pytest.raises(StaleWork, match="changed while the agent was working"):
        await run
    assert (await service.history()).total == 0 and service.live_proposals() == []


async def test_cancelling_the_run_records_nothing(setup) -> None:
    service, provider, _ = setup
    cancel = asyncio.Event()
    run = asyncio.ensure_future(
        service.propose(service.request_for(_uri(service), GREET, "improve"), cancel=cancel)
    )
    await provider.started.wait()
    cancel.set()
    with pytest.raises(WorkCancelled):
        await run
    assert (await service.history()).total == 0


async def test_one_model_call_at_a_time(setup) -> None:
    service, provider, _ = setup
    req = service.request_for(_uri(service), GREET, "improve")
    runs = [asyncio.ensure_future(service.propose(req)) for _ in range(3)]
    await provider.started.wait()
    provider.gate.set()
    outcomes = await asyncio.gather(*runs)
    assert provider.calls == 3 and provider.max_active == 1
    assert all(len(o.proposals) == 1 for o in outcomes)


async def test_a_newer_save_drops_the_running_review(setup, tmp_path: Path) -> None:
    service, provider, events = setup
    # a review is an "improve" of the whole file: its answer is the whole file (the verifier
    # refuses an answer that drops `total`)
    whole = tmp_path / "whole.jsonl"
    rest = SOURCE.split("\n", 4)[4]
    whole.write_text(
        json.dumps({**IMPROVE, "completion": fenced(GREET_IMPROVED + rest, "Annotate.")})
    )
    provider.inner = ReplayProvider(whole)
    await service.save_document(_uri(service))
    await provider.started.wait()  # the first review is with the model
    await service.save_document(_uri(service))
    provider.gate.set()
    await events.until(lambda: events.reviews)
    await service.idle()
    assert provider.calls == 2  # the first was cancelled mid-call
    assert len(events.reviews) == 1 and len(events.reviews[0].proposals) == 1
    assert [r.outcome.value for r in events.records] == ["proposed"]


async def test_an_edit_drops_a_review_waiting_for_its_debounce(setup) -> None:
    service, provider, events = setup
    service.update_settings(service.settings.model_copy(update={"review_debounce_ms": 600_000}))
    await service.save_document(_uri(service))
    _edit(service, 2, Range.of(10, 17, 10, 17), "  # sum")
    await service.idle()  # returns at once: the review noticed the edit
    assert provider.calls == 0 and events.reviews == []


async def _accepted(service: TetherService, provider: GatedProvider) -> str:
    provider.gate.set()
    outcome = await service.propose(service.request_for(_uri(service), GREET, "improve"))
    [planned] = outcome.proposals
    plan = await service.plan_accept(planned.proposal.id)
    doc = service.document(_uri(service))
    edits = [TextChange(range=e.range, text=e.new_text) for e in reversed(plan.edits)]
    service.change_document(_uri(service), (doc.version or 0) + 1, edits)  # the editor applies
    await service.accept(plan)
    return planned.proposal.id


async def test_rewrite_then_undo_is_no_correction(setup) -> None:
    service, provider, events = setup
    pid = await _accepted(service, provider)
    assert service.document(_uri(service)).text.startswith(GREET_IMPROVED)
    _edit(service, 3, Range.of(3, 4, 3, 18), "return message.upper()")
    _edit(service, 4, Range.of(3, 4, 3, 26), "return message")  # back as accepted
    await service.save_document(_uri(service))
    assert [r.outcome.value for r in events.records if r.proposal_id == pid] == [
        "proposed",
        "accepted",
    ]


async def test_correction_recorded_when_the_window_closes(setup) -> None:
    service, provider, events = setup
    service.update_settings(service.settings.model_copy(update={"correction_window_seconds": 0.3}))
    pid = await _accepted(service, provider)
    _edit(service, 3, Range.of(3, 4, 3, 18), "return message.upper()")
    await events.until(lambda: any(r.outcome.value == "corrected" for r in events.records))
    corrected = events.records[-1]
    assert corrected.proposal_id == pid
    assert corrected.after is not None and corrected.after.endswith("return message.upper()")


async def test_undoing_an_accepted_edit_is_recorded_as_a_revert(setup) -> None:
    service, provider, events = setup
    service.update_settings(service.settings.model_copy(update={"correction_window_seconds": 0.3}))
    pid = await _accepted(service, provider)
    proposal = await service.get_proposal(pid)
    doc = service.document(_uri(service))
    assert doc.text.startswith(GREET_IMPROVED)
    _edit(service, (doc.version or 0) + 1, GREET, proposal.original)  # the user's undo
    assert service.document(_uri(service)).text == SOURCE
    await events.until(lambda: any(r.outcome.value == "corrected" for r in events.records))
    corrected = events.records[-1]
    assert corrected.proposal_id == pid and corrected.after == proposal.original
    assert corrected.data["reverted"] is True
    profile = await service.profile_store()
    stats = profile.profile.stats(proposal.class_key)
    assert (stats.accepts, stats.rejects, stats.corrections) == (0, 1, 0)


async def test_a_direct_correction_back_to_the_original_is_a_revert(setup) -> None:
    service, provider, _ = setup
    pid = await _accepted(service, provider)
    proposal = await service.get_proposal(pid)
    record = await service.correct(pid, proposal.original)
    assert record.data == {"reverted": True}
    profile = await service.profile_store()
    stats = profile.profile.stats(proposal.class_key)
    assert (stats.accepts, stats.rejects, stats.corrections) == (0, 1, 0)


async def test_no_window_no_watch(setup) -> None:
    service, provider, events = setup
    service.update_settings(service.settings.model_copy(update={"correction_window_seconds": 0}))
    pid = await _accepted(service, provider)
    _edit(service, 3, Range.of(3, 4, 3, 18), "return message.upper()")
    await service.save_document(_uri(service))
    assert [r.outcome.value for r in events.records if r.proposal_id == pid] == [
        "proposed",
        "accepted",
    ]


async def test_the_scheduler_hears_typing_and_stops_with_the_service(setup) -> None:
    service, _, _ = setup
    service.start_scheduler()
    scheduler = service.trainer.scheduler
    assert scheduler.seconds_since_typing() == float("inf")
    _edit(service, 2, Range.of(10, 17, 10, 17), "  # sum")
    assert scheduler.seconds_since_typing() < 60
    decision = await scheduler.tick()
    assert decision.train is False and "not mature" in decision.reason
    await service.idle()  # the scheduler's loop is not background work to wait for
    await service.close()
    assert service.trainer.scheduler_task is not None and service.trainer.scheduler_task.done()
