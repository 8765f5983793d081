"""Snapshots, replay and rebuild on a real store: all three give identical numbers."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tether.config import PolicySettings, Settings
from tether.core.types import Actor, Outcome
from tether.decisions import DecisionStore
from tether.profile import Profile, ProfileStore, rebuild


def numbers(profile: Profile) -> list[dict]:
    return [s.model_dump() for s in profile.classes()]


async def test_rebuild_equals_incremental(store: DecisionStore, play, mixed_script) -> None:
    settings = PolicySettings()
    live = await ProfileStore.load(store, settings, snapshot_every=37)
    events = []

    async def observe(record) -> None:
        events.extend(await live.observe(record))

    rows = await play(store, mixed_script(320), observe)
    assert live.head_seq == rows[-1].seq == (await store.head())[0]
    assert await store.latest_profile_snapshot() is not None  # snapshots were taken on the way

    rebuilt = await rebuild(store, settings)
    resumed = await ProfileStore.load(store, settings)  # latest snapshot + replay of the rest
    assert rebuilt.to_snapshot() == live.profile.to_snapshot() == resumed.profile.to_snapshot()
    assert numbers(rebuilt) == numbers(live.profile) == numbers(resumed.profile)
    assert rebuilt.prior() == live.profile.prior()
    families = [s for s in rebuilt.classes() if s.prior_method == "family"]
    assert families  # the fix:* classes stand on their family's prior, rebuilt identically
    for s in families:
        assert rebuilt.prior_for(s.class_key) == live.profile.prior_for(s.class_key)
    assert rebuilt.mature() == live.profile.mature()
    for s in rebuilt.classes():
        a = rebuilt.decide(s.class_key, pins={}, always_ask=False, explore=False)
        b = resumed.profile.decide(s.class_key, pins={}, always_ask=False, explore=False)
        assert a == b

    # the script exercised what the profile reads, and the events came out along the way
    totals = {
        o: sum(getattr(s, o) for s in rebuilt.classes())
        for o in ("accepts", "rejects", "corrections")
    }
    assert all(v > 0 for v in totals.values())
    assert any(e.kind == "class" and e.mature for e in events)
    user_verdicts = [
        r
        for r in rows
        if r.actor == Actor.USER and r.outcome in (Outcome.ACCEPTED, Outcome.REJECTED)
    ]
    corrected = [r for r in rows if r.outcome == Outcome.CORRECTED]
    after_auto = {r.proposal_id for r in rows if r.outcome == Outcome.AUTO_APPLIED}
    assert rebuilt.decisions == len(user_verdicts) + sum(
        1 for r in corrected if r.proposal_id in after_auto
    )


async def test_the_snapshot_is_used_and_the_rest_replayed(store: DecisionStore, play) -> None:
    settings = PolicySettings()
    await play(store, [("fix:py", "accept")] * 5)
    first = await ProfileStore.load(store, settings)
    saved_at = await first.snapshot()
    snap = await store.latest_profile_snapshot()
    assert snap is not None and snap.head_seq == saved_at == 10
    # tamper with the snapshot only: a load that used it shows the tampering
    body = dict(snap.body)
    body["classes"] = {"fix:py": {**body["classes"]["fix:py"], "accepts": 99}}
    await store.save_profile_snapshot(saved_at, body)
    await play(store, [("fix:py", "reject")] * 2)
    loaded = await ProfileStore.load(store, settings)
    s = loaded.profile.stats("fix:py")
    assert (s.accepts, s.rejects) == (99, 2)  # snapshot numbers + the two replayed rows
    rebuilt = await rebuild(store, settings)
    assert (rebuilt.stats("fix:py").accepts, rebuilt.stats("fix:py").rejects) == (5, 2)


@pytest.mark.parametrize(
    "damage",
    [
        {"settings": {"correction_weight": 0.9, "ema_half_life": 20.0}},
        {"format": 0},
        {"classes": {"fix:py": {"accepts": "many"}}},
        {"pending": 3},
    ],
)
async def test_stale_or_damaged_snapshots_are_rebuilt_from_the_log(
    store: DecisionStore, play, damage, caplog
) -> None:
    settings = PolicySettings()
    await play(store, [("fix:py", "accept"), ("fix:py", "correct"), ("fix:py", "reject")])
    good = await ProfileStore.load(store, settings)
    await store.save_profile_snapshot(good.head_seq, {**good.profile.to_snapshot(), **damage})
    with caplog.at_level(logging.INFO, logger="tether.profile.store"):
        loaded = await ProfileStore.load(store, settings)
    assert "rebuilding from the log" in caplog.text
    assert loaded.profile.to_snapshot() == good.profile.to_snapshot()


async def test_a_snapshot_ahead_of_the_log_is_ignored(store: DecisionStore, play) -> None:
    await play(store, [("fix:py", "accept")] * 2)
    await store.save_profile_snapshot(999, Profile(PolicySettings()).to_snapshot())
    loaded = await ProfileStore.load(store, PolicySettings())
    assert loaded.profile.stats("fix:py").accepts == 2


async def test_rows_written_elsewhere_are_caught_up(
    store: DecisionStore, play, tmp_path: Path
) -> None:
    settings = Settings()  # the whole Settings is accepted too
    live = await ProfileStore.load(store, settings)
    other = await DecisionStore.open(store.path)  # a second process on the same file
    try:
        await play(other, [("fix:py", "accept")] * 3)
        # the next row this process sees carries a seq past the gap: the gap is read first
        rows = await play(store, [("fix:py", "reject")])
        for row in rows:
            await live.observe(row)
        await live.observe(rows[-1])  # seen already: ignored
        s = live.profile.stats("fix:py")
        assert (s.accepts, s.rejects) == (3, 1)
        await play(other, [("docs:md", "accept")])
        await live.refresh()
        assert live.profile.stats("docs:md").accepts == 1
        assert live.profile.to_snapshot() == (await rebuild(store, settings)).to_snapshot()
    finally:
        await other.close()


async def test_reconfigure_rebuilds_when_the_evidence_rules_change(
    store: DecisionStore, play
) -> None:
    live = await ProfileStore.load(store, PolicySettings(correction_weight=0.5))
    await play(store, [("fix:py", "correct")] * 4, live.observe)
    assert live.profile.stats("fix:py").approvals == 2.0
    await live.reconfigure(PolicySettings(correction_weight=0.5, auto_threshold=0.5))
    assert live.profile.settings.auto_threshold == 0.5
    await live.reconfigure(PolicySettings(correction_weight=0.25, ema_half_life=5))
    s = live.profile.stats("fix:py")
    assert s.approvals == 1.0
    fresh = await rebuild(store, PolicySettings(correction_weight=0.25, ema_half_life=5))
    assert fresh.to_snapshot() == live.profile.to_snapshot()
