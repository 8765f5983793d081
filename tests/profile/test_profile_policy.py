"""Policy transitions on scripted decision sequences, overrides, drift, exploration, evidence."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import stats

from tether.config import PolicySettings
from tether.profile import Profile

KEY = "fix:python:src:small"


def first_k(condition) -> int:
    return next(k for k in range(1, 1000) if condition(k))


def test_ask_turns_auto_exactly_when_the_lower_bound_clears_the_threshold(feed) -> None:
    settings = PolicySettings()  # auto 0.85 on the 80% interval's lower bound (10% quantile)
    tail = (1 - settings.credible_mass) / 2
    needed = first_k(lambda k: stats.beta.ppf(tail, 1 + k, 1) >= settings.auto_threshold)
    assert needed >= settings.min_auto_evidence  # the interval decides here, not the minimum
    profile = Profile(settings)
    f = feed(profile)
    f(KEY, ["accept"] * (needed - 1))
    before = profile.decide(KEY, [], pins={}, always_ask=False, explore=False)
    assert before.mode == "ask" and before.override is None
    f(KEY, ["accept"])
    after = profile.decide(KEY, [], pins={}, always_ask=False, explore=False)
    assert after.mode == "auto"
    assert after.numbers["n"] == needed and after.numbers["accepts"] == needed
    assert after.numbers["lower"] >= 0.85 > before.numbers["lower"]
    # the reason carries the numbers the editor shows
    assert f"n={needed}" in after.reason and "auto threshold 0.85" in after.reason
    assert f"{after.numbers['lower']:.2f}" in after.reason


def test_many_rejects_make_the_class_quiet(feed) -> None:
    settings = PolicySettings()
    upper = 1 - (1 - settings.credible_mass) / 2
    needed = first_k(lambda k: stats.beta.ppf(upper, 1, 1 + k) < settings.quiet_threshold)
    profile = Profile(settings)
    f = feed(profile)
    f(KEY, ["reject"] * (needed - 1))
    assert profile.decide(KEY, pins={}, always_ask=False, explore=False).mode == "ask"
    f(KEY, ["reject"])
    d = profile.decide(KEY, pins={}, always_ask=False, explore=False)
    assert d.mode == "quiet" and d.base_mode == "quiet"
    assert d.numbers["upper"] < 0.2 and "quiet threshold 0.20" in d.reason


def test_mixed_evidence_keeps_asking(feed) -> None:
    profile = Profile(PolicySettings())
    feed(profile)(KEY, ["accept", "reject"] * 60)
    d = profile.decide(KEY, pins={}, always_ask=False, explore=False)
    assert d.mode == "ask" and 0.4 < d.numbers["mean"] < 0.6


def _auto_profile(feed) -> Profile:
    profile = Profile(PolicySettings())
    feed(profile)(KEY, ["accept"] * 60)
    feed(profile)("docs:md", ["reject"] * 60)
    assert profile.decide(KEY, pins={}, always_ask=False, explore=False).mode == "auto"
    assert profile.decide("docs:md", pins={}, always_ask=False, explore=False).mode == "quiet"
    return profile


def test_pins_override_the_posterior(feed) -> None:
    profile = _auto_profile(feed)
    d = profile.decide(KEY, pins={KEY: "always_ask"}, always_ask=False, explore=False)
    assert (d.mode, d.base_mode, d.override) == ("ask", "auto", "pin")
    assert "pinned always ask" in d.reason and d.numbers["pin"] == "always_ask"
    d = profile.decide(KEY, pins={KEY: "never_auto"}, always_ask=False, explore=False)
    assert (d.mode, d.override) == ("ask", "pin")
    # never auto still lets a class stay quiet; always ask shows it
    quiet = profile.decide(
        "docs:md", pins={"docs:md": "never_auto"}, always_ask=False, explore=False
    )
    assert quiet.mode == "quiet"
    shown = profile.decide(
        "docs:md", pins={"docs:md": "always_ask"}, always_ask=False, explore=False
    )
    assert shown.mode == "ask" and shown.override == "pin"
    # a pin on another class changes nothing here
    other_pin = profile.decide(KEY, pins={"other": "always_ask"}, always_ask=False, explore=False)
    assert other_pin.mode == "auto"
    # a pin mode this version does not know is read the safe way
    odd = profile.decide(KEY, pins={KEY: "sometimes"}, always_ask=False, explore=False)
    assert odd.mode == "ask" and "unknown pin" in odd.reason


def test_boundaries_override_everything(feed) -> None:
    profile = _auto_profile(feed)
    for key in (KEY, "docs:md"):
        d = profile.decide(key, pins={}, always_ask=True, rng=random.Random(0))
        assert (d.mode, d.override) == ("ask", "boundary")
        assert d.numbers["boundary"] is True and "boundaries" in d.reason


def test_risky_flags_mark_the_decision_without_changing_the_mode(feed) -> None:
    profile = _auto_profile(feed)
    d = profile.decide(KEY, ["deletes_code", "big_file"], pins={}, always_ask=False, explore=False)
    assert d.mode == "auto" and d.risky and d.risky_flags == ["deletes_code"]
    d = profile.decide(KEY, ["big_file"], pins={}, always_ask=False, explore=False)
    assert not d.risky and d.risky_flags == []


def test_drift_falls_back_to_ask(feed) -> None:
    settings = PolicySettings(recovery=0)  # the recovery rule alone would ask at once
    profile = Profile(settings)
    f = feed(profile)
    f(KEY, ["accept"] * 400)
    assert profile.decide(KEY, pins={}, always_ask=False, explore=False).mode == "auto"
    rejects = 0
    while True:
        f(KEY, ["reject"])
        rejects += 1
        d = profile.decide(KEY, pins={}, always_ask=False, explore=False)
        if d.mode != "auto":
            break
    # the long history still clears the threshold; the recent run of rejects does not
    assert (d.mode, d.base_mode, d.override) == ("ask", "auto", "drift")
    assert d.numbers["drift"] is True and d.numbers["lower"] >= settings.auto_threshold
    assert d.numbers["recent_mean"] < settings.auto_threshold <= d.numbers["mean"]
    assert d.numbers["predicted"] == d.numbers["recent_mean"]  # the drift-aware prediction
    assert "drift" in d.reason and "predicted approval" in d.reason and 1 < rejects < 15
    # the same run of rejects in a long run of accepts, with a long memory, stays auto
    slow = Profile(settings.model_copy(update={"ema_half_life": 1000.0}))
    feed(slow)(KEY, ["accept"] * 400 + ["reject"] * rejects)
    assert slow.decide(KEY, pins={}, always_ask=False, explore=False).mode == "auto"
    # enough rejects in a row make the class quiet whatever its past (the user changed
    # their mind); one approval ends the run
    f(KEY, ["reject"] * 40)
    d = profile.decide(KEY, pins={}, always_ask=False, explore=False)
    assert (d.mode, d.base_mode, d.override) == ("quiet", "auto", "drift")
    assert d.numbers["run_upper"] < settings.quiet_threshold and "rejections" in d.reason
    assert d.numbers["predicted"] == pytest.approx(d.numbers["run_upper"], abs=0.2)
    f(KEY, ["accept"])
    assert profile.decide(KEY, pins={}, always_ask=False, explore=False).mode != "quiet"


def test_a_rejection_after_auto_asks_until_the_class_recovers(feed) -> None:
    settings = PolicySettings()
    profile = Profile(settings)
    f = feed(profile)
    f(KEY, ["accept"] * 60)
    assert profile.decide(KEY, pins={}, always_ask=False, explore=False).mode == "auto"
    f(KEY, ["reject"])  # an exploration ask in an auto class came back rejected
    d = profile.decide(KEY, pins={}, always_ask=False, explore=False)
    assert (d.mode, d.base_mode, d.override) == ("ask", "auto", "recovery")
    assert d.numbers["since_reject"] == 0 and "recovery" in d.reason
    for i in range(1, settings.recovery):
        f(KEY, ["accept"])
        d = profile.decide(KEY, pins={}, always_ask=False, explore=False)
        assert (d.mode, d.override, d.numbers["since_reject"]) == ("ask", "recovery", i)
    f(KEY, ["accept"])
    assert profile.decide(KEY, pins={}, always_ask=False, explore=False).mode == "auto"


def test_a_surprising_rejection_puts_the_task_family_on_recovery(feed) -> None:
    profile = Profile(PolicySettings())
    f = feed(profile)
    f("hints:python:tests:small", ["accept"] * 60)
    f("hints:python:src:small", ["accept"] * 2)
    f("other:python:tests:small", ["accept"] * 60)
    assert profile.decide("hints:python:tests:small", pins={}, explore=False).mode == "auto"
    # the sibling was approved so far: its rejection is news about the whole task
    f("hints:python:src:small", ["reject"])
    d = profile.decide("hints:python:tests:small", pins={}, explore=False)
    assert (d.mode, d.override) == ("ask", "recovery")
    assert profile.decide("other:python:tests:small", pins={}, explore=False).mode == "auto"
    f("hints:python:tests:small", ["accept"] * 3)
    assert profile.decide("hints:python:tests:small", pins={}, explore=False).mode == "auto"
    # a rejection in a sibling the user rejects anyway is no news
    f("hints:python:docs:small", ["reject"] * 5)
    assert profile.decide("hints:python:tests:small", pins={}, explore=False).mode == "auto"


def test_auto_needs_a_minimum_of_the_classes_own_evidence(feed) -> None:
    profile = Profile(PolicySettings())
    for i in range(6):  # a pool of classes the user always approves: a confident prior
        feed(profile)(f"fix{i}:python:src:small", ["accept"] * 30)
    f = feed(profile)
    f(KEY, ["accept"] * (profile.settings.min_auto_evidence - 1))
    d = profile.decide(KEY, pins={}, always_ask=False, explore=False)
    assert d.base_mode == "auto" and (d.mode, d.override) == ("ask", "recovery")
    assert "too little evidence" in d.reason
    f(KEY, ["accept"])
    assert profile.decide(KEY, pins={}, always_ask=False, explore=False).mode == "auto"


def test_upward_drift_brings_a_quiet_class_back_to_ask(feed) -> None:
    profile = Profile(PolicySettings())
    f = feed(profile)
    f(KEY, ["reject"] * 400)
    assert profile.decide(KEY, pins={}, always_ask=False, explore=False).mode == "quiet"
    f(KEY, ["accept"] * 8)  # the user now wants these; exploration let a few through
    d = profile.decide(KEY, pins={}, always_ask=False, explore=False)
    assert (d.mode, d.base_mode, d.override) == ("ask", "quiet", "drift")
    assert d.numbers["ema"] > d.numbers["mean"] + 0.15 and "over the mean" in d.reason


def test_moving_average_follows_its_half_life(feed) -> None:
    profile = Profile(PolicySettings(ema_half_life=10))
    f = feed(profile)
    f(KEY, ["accept"] * 200 + ["reject"] * 10)
    # after one half-life of rejects, the accepts weigh half of what they did
    s = profile.stats(KEY)
    lam = 0.5 ** (1 / 10)
    expected = (lam**10) * sum(lam**i for i in range(200)) / sum(lam**i for i in range(210))
    assert s.ema == pytest.approx(expected, rel=1e-12)
    assert s.ema == pytest.approx(0.5, abs=0.01)


def test_exploration_rate_is_respected_with_a_seeded_rng(feed) -> None:
    profile = _auto_profile(feed)
    draws = 4000

    def asks(rng) -> list[bool]:
        return [
            profile.decide(KEY, pins={}, always_ask=False, rng=rng).mode == "ask"
            for _ in range(draws)
        ]

    first = asks(random.Random(7))
    rate = profile.settings.exploration
    expected, sd = draws * rate, (draws * rate * (1 - rate)) ** 0.5
    assert abs(sum(first) - expected) < 5 * sd
    assert first == asks(random.Random(7))  # reproducible
    assert abs(sum(asks(np.random.default_rng(1))) - expected) < 5 * sd  # numpy rng works too
    explored = next(
        d
        for d in (
            profile.decide(KEY, pins={}, always_ask=False, rng=random.Random(s)) for s in range(100)
        )
        if d.override == "exploration"
    )
    assert explored.base_mode == "auto" and explored.numbers["explored"] is True
    assert "exploration" in explored.reason
    # quiet classes are explored too, so a class can come back
    quiet = [
        profile.decide("docs:md", pins={}, always_ask=False, rng=random.Random(s)).mode
        for s in range(400)
    ]
    assert 0 < quiet.count("ask") < 60
    # no exploration when switched off, or in views
    off = Profile(profile.settings.model_copy(update={"exploration": 0.0}))
    feed(off)(KEY, ["accept"] * 60)
    rng = random.Random(7)
    assert all(
        off.decide(KEY, pins={}, always_ask=False, rng=rng).mode == "auto" for _ in range(500)
    )
    assert all(
        profile.decide(KEY, pins={}, always_ask=False, rng=rng, explore=False).mode == "auto"
        for _ in range(500)
    )


def test_policy_rows_and_rewrites_are_not_evidence(feed) -> None:
    profile = Profile(PolicySettings())
    feed(profile)(KEY, ["auto"] * 30 + ["suppress"] * 30 + ["accept"] * 3 + ["rewrite"] * 2)
    s = profile.stats(KEY)
    assert (s.n, s.accepts, s.rejects, s.corrections) == (5, 3, 2, 0)
    assert (s.alpha, s.beta) == (4.0, 3.0)
    assert s.traffic == 65  # every proposal is traffic, even the ones the policy handled


def test_a_correction_replaces_the_users_own_accept(feed) -> None:
    settings = PolicySettings(correction_weight=0.3)
    profile = Profile(settings)
    feed(profile)(KEY, ["correct"] * 4 + ["accept"] * 2)
    s = profile.stats(KEY)
    assert (s.n, s.accepts, s.corrections) == (6, 2, 4)
    assert s.approvals == pytest.approx(2 + 4 * 0.3)
    assert (s.alpha, s.beta) == pytest.approx((1 + 2 + 1.2, 1 + 4 * 0.7))
    # the moving average sees the correction in place of the accept
    lam = 0.5 ** (1 / settings.ema_half_life)
    values = [0.3] * 4 + [1.0] * 2
    weights = [lam ** (5 - i) for i in range(6)]
    assert s.ema == pytest.approx(
        sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights), rel=1e-12
    )


def test_a_correction_after_an_auto_apply_is_fresh_evidence(feed) -> None:
    profile = Profile(PolicySettings(correction_weight=0.5))
    feed(profile)(KEY, ["auto_correct"] * 4)
    s = profile.stats(KEY)
    assert (s.n, s.accepts, s.corrections) == (4, 0, 4)
    assert (s.alpha, s.beta) == (3.0, 3.0)


def test_undoing_an_auto_apply_counts_as_a_rejection(feed) -> None:
    settings = PolicySettings(correction_weight=0.5)
    undone, kept = Profile(settings), Profile(settings)
    feed(undone)(KEY, ["accept"] * 6 + ["auto_revert"] * 2)
    feed(kept)(KEY, ["accept"] * 6 + ["auto_correct"] * 2)
    s = undone.stats(KEY)
    assert (s.n, s.accepts, s.rejects, s.corrections) == (8, 6, 2, 0)
    assert (s.alpha, s.beta) == (7.0, 3.0)
    assert (s.since_reject, s.reject_run) == (0, 2)  # recovery starts again
    assert s.ema < kept.stats(KEY).ema  # an undo is not the partial approval of a correction


def test_undoing_the_users_own_accept_replaces_it_with_a_rejection(feed) -> None:
    settings = PolicySettings()
    profile = Profile(settings)
    feed(profile)(KEY, ["accept"] * 3 + ["revert"])
    s = profile.stats(KEY)
    assert (s.n, s.accepts, s.rejects, s.corrections) == (4, 3, 1, 0)
    assert s.since_reject == 0
    lam = 0.5 ** (1 / settings.ema_half_life)
    weights = [lam ** (3 - i) for i in range(4)]
    assert s.ema == pytest.approx(sum(weights[:3]) / sum(weights), rel=1e-12)


def test_maturity_events_fire_both_ways(feed) -> None:
    settings = PolicySettings(maturity_width=0.25, maturity_share=0.6)
    profile = Profile(settings)
    f = feed(profile)
    tail = (1 - settings.credible_mass) / 2
    own_width = [
        stats.beta.ppf(1 - tail, 1 + k, 1) - stats.beta.ppf(tail, 1 + k, 1) for k in range(30)
    ]
    needed = next(k for k, w in enumerate(own_width) if w < 0.25)
    f(KEY, ["accept"] * (needed - 1))
    assert f.events == [] and not profile.stats(KEY).mature and not profile.mature()
    f(KEY, ["accept"])
    kinds = [(e.kind, e.class_key, e.mature) for e in f.events]
    assert kinds == [("class", KEY, True), ("profile", None, True)]
    assert f.events[0].width == pytest.approx(own_width[needed], abs=1e-12)
    assert profile.stats(KEY).mature and profile.mature() and profile.mature_share() == 1.0
    f.events.clear()
    # traffic moving to an unknown class takes the profile's maturity away…
    f("docs:md", ["proposed"] * needed)
    assert [(e.kind, e.mature) for e in f.events] == [("profile", False)]
    assert profile.mature_share() == pytest.approx(0.5)
    f.events.clear()
    # …and a surprising reject widens the class's interval past the limit again
    f(KEY, ["reject"])
    assert [(e.kind, e.class_key, e.mature) for e in f.events] == [("class", KEY, False)]
    assert profile.mature_share() == 0.0


def test_a_class_never_seen_gets_the_prior_and_asks(feed) -> None:
    profile = _auto_profile(feed)
    s = profile.stats("new:class")
    assert s.n == 0 and s.ema is None and (s.alpha, s.beta) == (s.prior_alpha, s.prior_beta)
    assert profile.decide("new:class", pins={}, always_ask=False, explore=False).mode == "ask"
