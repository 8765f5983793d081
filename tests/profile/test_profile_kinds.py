"""The kind of change in the class key: kind → task → pool prior, quiet and check-in per kind."""

from __future__ import annotations

import random

import pytest

from tether.config import PolicySettings
from tether.core.types import Actor, Outcome
from tether.profile import Profile

PARTS = ["task", "kind", "language", "area", "size"]
QUIET_OFF = {"exploration": 0.0, "quiet_exploration": 0.0}


def key(task: str, kind: str, area: str = "code", size: str = "1-3") -> str:
    return f"{task}:{kind}:python:{area}:{size}"


def kinds_profile(**settings: object) -> Profile:
    return Profile(PolicySettings(**{**QUIET_OFF, **settings}), PARTS)


def test_a_sparse_kind_starts_from_its_task_not_the_pool(feed) -> None:
    profile = kinds_profile()
    f = feed(profile)
    # task "dead-code": two kinds, each in two classes, all rejected
    for kind in ("PIE790", "PLR1711"):
        for size in ("1-3", "4-15"):
            f(key("dead-code", kind, size=size), ["reject"] * 12)
    # task "fstring": two kinds, all accepted
    for kind in ("UP031", "fstring"):
        for size in ("1-3", "4-15"):
            f(key("fstring", kind, size=size), ["accept"] * 12)
    pool = profile.prior()
    assert 0.3 < pool.mean < 0.7  # the pool alone says nothing either way
    # a kind never seen borrows from its task: low in dead-code, high in fstring
    sparse_dead = profile.stats(key("dead-code", "dead-code"))
    sparse_fstr = profile.stats(key("fstring", "UP032"))
    assert sparse_dead.mean < 0.2 and sparse_fstr.mean > 0.8
    assert sparse_dead.prior_method == sparse_fstr.prior_method == "family"
    # a kind with classes of its own stands on its own kind's prior, which names the kind
    seen = profile.stats(key("dead-code", "PIE790", size="16-60"))
    assert seen.prior_method == "kind" and seen.mean < 0.2
    assert profile.prior_for(seen.class_key).family == "dead-code:PIE790"
    # a key without the configured parts (recorded under other settings) has no kind level
    assert profile.stats("dead-code:python:code:1-3").kind is None


def test_a_wanted_kind_stays_visible_in_a_mostly_rejected_task(feed) -> None:
    profile = kinds_profile()
    f = feed(profile)
    for kind in ("PIE790", "PLR1711"):
        for size in ("1-3", "4-15", "16-60"):
            f(key("dead-code", kind, size=size), ["reject"] * 10)
    f(key("dead-code", "dead-code"), ["accept"] * 4)
    # a rejected kind's new class stands on a very low prior, yet is asked until the user's
    # own verdict on it: the prior alone never hides a proposal
    fresh = key("dead-code", "PIE790", area="tests")
    assert profile.stats(fresh).upper < profile.settings.quiet_threshold
    d = profile.decide(fresh, pins={}, explore=False)
    assert d.mode == "ask" and "too few of your own verdicts" in d.reason
    f(fresh, ["reject"])
    hidden = profile.decide(fresh, pins={}, explore=False)
    assert hidden.mode == "quiet"
    assert "you rejected 31 of 31 PIE790 edits" in hidden.reason
    # the kind the user accepts is shown in a new area and size too, never hidden
    for area, size in (("code", "1-3"), ("code", "4-15"), ("tests", "16-60")):
        wanted = profile.decide(key("dead-code", "dead-code", area, size), pins={}, explore=False)
        assert wanted.mode != "quiet"
    # without the kind in the key, wanted and unwanted edits share one class, and the wanted
    # one goes quiet with the rest of its task
    flat = Profile(PolicySettings(**QUIET_OFF))
    feed(flat)("dead-code:python:code:1-3", (["accept"] + ["reject"] * 10) * 3)
    assert flat.decide("dead-code:python:code:1-3", pins={}, explore=False).mode == "quiet"


def test_the_check_in_counts_the_kind_across_its_classes(feed) -> None:
    every = 4
    profile = kinds_profile(check_every=every)
    f = feed(profile)
    classes = [key("hints", "type-hints", size=s) for s in ("1-3", "4-15", "16-60")]
    for k in classes:
        f(k, ["accept"] * 30)
    f(key("hints", "docstring"), ["accept"] * 30)
    assert all(profile.decide(k, pins={}, explore=False).mode == "auto" for k in classes)
    # proposals of the kind rotate over its classes; none is labelled
    applied, asked_at = 0, None
    for i in range(3 * every):
        k = classes[i % len(classes)]
        pid = f"hint{i}"
        f.row(Outcome.PROPOSED, k, Actor.SYSTEM, pid)
        d = profile.decide(k, pins={}, rng=random.Random(0))
        if d.mode == "ask":
            asked_at = i
            assert "check-in: 4 type-hints proposals in a row" in d.reason
            break
        applied += 1
        f.row(Outcome.AUTO_APPLIED, k, Actor.POLICY, pid)
    # per class the count would be 1 or 2 by now; per kind it reaches check_every
    assert asked_at == every - 1 and applied == every - 1
    # another kind of the same task keeps its own count
    docs = profile.stats(key("hints", "docstring"))
    assert docs.kind_unlabeled == 0 and docs.kind == "docstring"


@pytest.mark.parametrize("parts", [PARTS, None])
def test_kind_state_survives_a_snapshot(feed, parts) -> None:
    profile = Profile(PolicySettings(**QUIET_OFF), parts)
    f = feed(profile)
    f(key("hints", "type-hints"), ["accept"] * 6 + ["proposed"] * 2)
    f(key("hints", "type-hints", size="4-15"), ["proposed"])
    restored = Profile.from_snapshot(profile.to_snapshot(), profile.settings, parts)
    k = key("hints", "type-hints", size="4-15")
    assert restored.stats(k) == profile.stats(k)
    if parts is not None:
        assert restored.stats(k).kind_unlabeled == 3
        with pytest.raises(ValueError, match="class parts"):
            Profile.from_snapshot(profile.to_snapshot(), profile.settings, ["task", "kind"])
