"""The empirical-Bayes prior: sparse classes borrow strength from the pool."""

from __future__ import annotations

import numpy as np
import pytest

from tether.config import PolicySettings
from tether.profile import Profile
from tether.profile.prior import fit_prior

SPARSE = "migrate:sql:migrations:large"


def busy_classes(feed, profile: Profile, accepts: int, rejects: int, count: int = 6) -> None:
    for i in range(count):
        feed(profile)(f"fix:lang{i}:src:small", ["accept"] * accepts + ["reject"] * rejects)


def test_sparse_classes_move_toward_the_pool(feed) -> None:
    settings = PolicySettings()
    pooled = Profile(settings)
    busy_classes(feed, pooled, accepts=36, rejects=4)
    feed(pooled)(SPARSE, ["reject"])
    alone = Profile(settings)
    feed(alone)(SPARSE, ["reject"])

    prior = pooled.prior()
    assert prior.method == "pooled" and prior.classes == 7
    assert prior.strength == pytest.approx(settings.prior_strength_max)  # classes agree: capped
    assert prior.mean == pytest.approx((6 * 36 + 1) / (6 * 40 + 1 + 2))  # Laplace-smoothed pool
    sparse, lone = pooled.stats(SPARSE), alone.stats(SPARSE)
    assert lone.mean == pytest.approx(1 / 3)  # uniform prior, one reject
    assert sparse.mean > 0.8  # one reject barely moves it away from a pool of approvals at 0.9
    assert sparse.mean == pytest.approx(prior.alpha / (prior.strength + 1))
    # a busy class is dominated by its own data
    busy = pooled.stats("fix:lang0:src:small")
    assert busy.mean == pytest.approx(0.9, abs=0.01)


def test_the_pool_pulls_down_as_well_as_up(feed) -> None:
    profile = Profile(PolicySettings())
    busy_classes(feed, profile, accepts=3, rejects=37)
    feed(profile)(SPARSE, ["accept"])
    s = profile.stats(SPARSE)
    assert s.mean < 0.2  # alone it would be 2/3
    assert profile.decide(SPARSE, pins={}, always_ask=False, explore=False).mode != "auto"


def test_classes_that_disagree_make_a_weak_prior(feed) -> None:
    profile = Profile(PolicySettings())
    for i in range(6):
        accepts = 36 if i % 2 else 4
        feed(profile)(f"task{i}:py", ["accept"] * accepts + ["reject"] * (40 - accepts))
    prior = profile.prior()
    assert prior.method == "pooled"
    # weaker than a uniform prior: the class's own verdicts decide; never under the floor
    assert PolicySettings().prior_strength_min <= prior.strength < 1.0
    assert prior.mean == pytest.approx(0.5)


def test_too_little_data_gives_the_uniform_prior(feed) -> None:
    settings = PolicySettings(prior_min_classes=3, prior_min_decisions=10)
    profile = Profile(settings)
    feed(profile)("a", ["accept"] * 30)
    feed(profile)("b", ["accept"] * 30)
    assert (profile.prior().alpha, profile.prior().beta, profile.prior().method) == (1, 1, "weak")
    feed(profile)("c", ["accept"])
    assert profile.prior().method == "pooled"
    few = Profile(settings)
    for key in "abc":
        feed(few)(key, ["accept"] * 3)
    assert few.prior().method == "weak" and "needs 3 classes and 10 verdicts" in few.prior().reason


def test_method_of_moments_recovers_a_known_prior() -> None:
    rng = np.random.default_rng(11)
    rates = rng.beta(6.0, 4.0, size=400)  # true prior: mean 0.6, strength 10
    counts = [(float(rng.binomial(30, p)), 30.0) for p in rates]
    fit = fit_prior(counts, PolicySettings(prior_strength_max=100))
    assert fit.mean == pytest.approx(0.6, abs=0.02)
    assert 7.5 < fit.strength < 13.0
    capped = fit_prior(counts, PolicySettings(prior_strength_max=5))
    assert capped.strength == pytest.approx(5.0)


def test_the_prior_is_refitted_only_when_evidence_changes(feed) -> None:
    profile = Profile(PolicySettings())
    busy_classes(feed, profile, accepts=20, rejects=5)
    first = profile.prior()
    profile.decide("fix:lang0:src:small", pins={}, always_ask=False)
    assert profile.prior() is first  # questions reuse the fit
    feed(profile)("fix:lang0:src:small", ["proposed"])
    assert profile.prior() is first  # traffic is not evidence
    feed(profile)("fix:lang0:src:small", ["reject"])
    assert profile.prior() is not first and profile.prior().decisions == first.decisions + 1
