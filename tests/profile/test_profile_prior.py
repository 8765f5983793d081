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


def accepting_pool(feed, profile: Profile) -> None:
    """Busy classes of several tasks that the user approves: a pool near 0.9."""
    for task in ("fix", "rename", "format", "sort"):
        feed(profile)(f"{task}:py:src:small", ["accept"] * 18 + ["reject"] * 2)


def test_a_sparse_class_borrows_its_familys_rate_not_the_pools(feed) -> None:
    settings = PolicySettings()
    profile = Profile(settings)
    accepting_pool(feed, profile)
    feed(profile)("hints:py:src:small", ["reject"] * 8)  # the user does not want type hints
    feed(profile)("hints:py:tests:small", ["reject"] * 6)
    feed(profile)("hints:py:src:large", ["reject"])  # a new sibling with one verdict

    pool = profile.prior()
    assert pool.mean > 0.6
    family = profile.prior_for("hints:py:src:large")
    assert family.method == "family" and family.family == "hints" and family.classes == 3
    assert family.mean < 0.1  # fifteen rejects
    sparse = profile.stats("hints:py:src:large")
    assert (sparse.prior_alpha, sparse.prior_beta) == (family.alpha, family.beta)
    assert sparse.prior_method == "family"
    assert sparse.mean == pytest.approx(family.alpha / (family.strength + 1))
    flat = Profile(settings.model_copy(update={"family_prior": False}))
    accepting_pool(feed, flat)
    feed(flat)("hints:py:src:small", ["reject"] * 8)
    feed(flat)("hints:py:tests:small", ["reject"] * 6)
    feed(flat)("hints:py:src:large", ["reject"])
    pooled = flat.stats("hints:py:src:large")
    assert pooled.prior_method == "pooled"
    assert pooled.mean > 0.2  # the pool, mostly approvals, would have held it up
    assert sparse.mean < pooled.mean / 4

    # a class never seen in the family starts low too, and the reason names the prior
    unseen = profile.decide("hints:py:docs:small", pins={}, explore=False)
    assert unseen.numbers["prior_method"] == "family"
    assert unseen.numbers["mean"] < 0.2
    assert "the hints family's prior (approval " in unseen.reason
    assert f"worth {family.strength:.1f} decisions" in unseen.reason


def test_a_family_of_one_class_uses_the_pool(feed) -> None:
    profile = Profile(PolicySettings())
    accepting_pool(feed, profile)
    feed(profile)("hints:py:src:small", ["reject"] * 8)
    assert profile.prior_for("hints:py:src:small") == profile.prior()
    stats = profile.stats("hints:py:src:small")
    assert stats.prior_method == "pooled"
    reason = profile.decide("hints:py:src:small", pins={}, explore=False).reason
    assert "on the pool's prior (approval " in reason


def test_siblings_that_disagree_make_a_weak_family_prior(feed) -> None:
    profile = Profile(PolicySettings())
    accepting_pool(feed, profile)
    feed(profile)("docstring:py:src:small", ["accept"] * 12)  # wanted in code
    feed(profile)("docstring:py:tests:small", ["reject"] * 12)  # not in tests
    fit = profile.prior_for("docstring:py:src:large")
    assert fit.method == "family"
    assert fit.strength == pytest.approx(PolicySettings().prior_strength_min)
    # its own verdicts decide: a class of the family with three rejects is already low
    feed(profile)("docstring:py:src:large", ["reject"] * 3)
    assert profile.stats("docstring:py:src:large").mean < 0.1


def test_family_rates_are_shrunk_toward_the_pool_of_families(feed) -> None:
    """The family's own rate is a posterior too: few verdicts stay near the top level."""
    profile = Profile(PolicySettings(family_min_decisions=2))
    accepting_pool(feed, profile)
    feed(profile)("hints:py:src:small", ["reject"])
    feed(profile)("hints:py:tests:small", ["reject"])
    top = profile.family_pool()
    assert top.classes == 5  # the five task families, each pooled
    fit = profile.prior_for("hints:py:src:small")
    assert fit.mean == pytest.approx(top.alpha / (top.strength + 2))
    assert fit.mean > 0.1  # two rejects alone would say 0


def test_family_priors_are_refitted_when_a_sibling_changes(feed) -> None:
    profile = Profile(PolicySettings())
    feed(profile)("hints:py:src:small", ["reject"] * 5)
    feed(profile)("hints:py:tests:small", ["reject"] * 5)
    feed(profile)("fix:py:src:small", ["accept"] * 5)
    before = profile.stats("hints:py:src:large")
    assert profile.stats("hints:py:src:large") is before  # cached while nothing changes
    feed(profile)("hints:py:tests:small", ["accept"] * 5)
    after = profile.stats("hints:py:src:large")
    assert after.prior_alpha > before.prior_alpha  # a sibling's approvals reach the new class
