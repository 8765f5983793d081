"""The check-in rule: an auto (or quiet) class asks once it has gone `check_every` proposals
without a verdict, so a change of mind is caught within a bounded number of applied edits."""

from __future__ import annotations

import random

from tether.config import PolicySettings
from tether.core.types import Actor, Outcome
from tether.profile import PolicyDecision, Profile

KEY = "hints:python:src:1-3"
QUIET = "hints:python:tests:1-3"


def propose(f, key: str, verdict: str) -> PolicyDecision:
    """One proposal the way the service handles it: recorded, decided, then acted on."""
    profile: Profile = f.profile
    pid = f"p{next(f.ids)}"
    f.row(Outcome.PROPOSED, key, Actor.SYSTEM, pid)
    d = profile.decide(key, pins={}, rng=random.Random(0))
    if d.mode == "auto":
        f.row(Outcome.AUTO_APPLIED, key, Actor.POLICY, pid)
    elif d.mode == "quiet":
        f.row(Outcome.SUPPRESSED, key, Actor.POLICY, pid)
    else:
        f.row(Outcome.ACCEPTED if verdict == "accept" else Outcome.REJECTED, key, Actor.USER, pid)
    return d


def auto_profile(feed, **settings: object) -> Profile:
    profile = Profile(PolicySettings(exploration=0.0, quiet_exploration=0.0, **settings))
    feed(profile)(KEY, ["accept"] * 60)
    feed(profile)(QUIET, ["reject"] * 60)
    assert profile.decide(KEY, pins={}, explore=False).mode == "auto"
    assert profile.decide(QUIET, pins={}, explore=False).mode == "quiet"
    return profile


def test_an_auto_class_asks_one_proposal_in_check_every(feed) -> None:
    profile = auto_profile(feed)
    every = profile.settings.check_every
    assert every == 5  # the default the learning benchmark was tuned with
    f = feed(profile)
    decisions = [propose(f, KEY, "accept") for _ in range(4 * every)]
    assert [d.mode for d in decisions] == (["auto"] * (every - 1) + ["ask"]) * 4
    asked = decisions[every - 1]
    assert asked.override == "exploration" and asked.base_mode == "auto"
    assert asked.numbers["unlabeled"] == every and asked.numbers["explored"] is True
    assert asked.numbers["check_every"] == every
    assert f"check-in: {every} proposals" in asked.reason and "lower bound" in asked.reason
    # views show the policy without the check-in
    f.row(Outcome.PROPOSED, KEY, Actor.SYSTEM, "view")
    f(KEY, ["proposed"] * (every - 1))
    assert profile.stats(KEY).unlabeled == every
    assert profile.decide(KEY, pins={}, explore=False).mode == "auto"


def test_a_change_of_mind_is_asked_about_within_check_every_proposals(feed) -> None:
    profile = auto_profile(feed)
    f = feed(profile)
    propose(f, KEY, "accept")  # one auto already applied since the latest verdict
    decisions = [propose(f, KEY, "reject") for _ in range(profile.settings.check_every - 1)]
    # the first unwanted edits are applied, but the class asks before the check-in count
    applied_unwanted = [d.mode for d in decisions].index("ask")
    assert applied_unwanted == profile.settings.check_every - 2
    assert decisions[applied_unwanted].override == "exploration"
    # the rejection it got puts the class on recovery (then, rejected again, quiet): no more
    # edits are applied unasked
    after = [propose(f, KEY, "reject") for _ in range(10)]
    assert after[0].mode == "ask" and after[0].override == "recovery"
    assert "auto" not in {d.mode for d in after}


def test_any_verdict_of_the_user_restarts_the_count(feed) -> None:
    profile = auto_profile(feed)
    f = feed(profile)
    f(KEY, ["auto"] * 3)
    assert profile.stats(KEY).unlabeled == 3
    f(KEY, ["auto_correct"])  # the user fixed an applied edit: a verdict on it
    assert profile.stats(KEY).unlabeled == 0
    f(KEY, ["auto", "suppress", "proposed"])
    assert profile.stats(KEY).unlabeled == 3
    f(KEY, ["accept"])
    assert profile.stats(KEY).unlabeled == 0
    snapshot = profile.to_snapshot()
    f(KEY, ["auto"] * 2)
    resumed = Profile.from_snapshot(snapshot, profile.settings)
    feed(resumed)(KEY, ["auto"] * 2)
    assert resumed.stats(KEY).unlabeled == profile.stats(KEY).unlabeled == 2


def test_quiet_classes_check_in_on_their_own_schedule(feed) -> None:
    profile = auto_profile(feed, quiet_check_every=4)
    f = feed(profile)
    modes = [propose(f, QUIET, "reject").mode for _ in range(12)]
    assert modes == ["quiet", "quiet", "quiet", "ask"] * 3


def test_check_ins_can_be_switched_off(feed) -> None:
    profile = auto_profile(feed, check_every=0)
    f = feed(profile)
    assert {propose(f, KEY, "accept").mode for _ in range(50)} == {"auto"}
    assert {propose(f, QUIET, "reject").mode for _ in range(50)} == {"quiet"}
