"""The empirical-Bayes prior: one Beta fitted across classes so sparse classes borrow strength.

Method of moments for the beta-binomial model. With class i holding n_i verdicts of which
s_i approve (corrections count fractionally), pooled rate m = Σs/Σn, and the weighted
spread Q = Σ n_i (p_i − m)², the expectation under Beta(a, b) with ρ = 1/(a + b + 1) is

    E[Q] = m(1 − m) · [(K − 1) + ρ · (N − Σn_i²/N)]

(the ANOVA estimator of the intra-class correlation). Solving for ρ gives the prior's
strength a + b = 1/ρ − 1: classes that agree with each other make a strong prior, classes
that differ a weak one. The strength is clipped to [prior_strength_min, prior_strength_max]
so a prior is never more than a handful of decisions' worth of evidence. The floor is well
under the uniform prior's 2 (default 0.25): users tend to like or dislike a kind of edit
outright, so classes are nearly pure, the estimator says so (a U-shaped prior), and a floor
of 2 would keep every prediction for a pure class ~1/(n + 2) off and its policy slow (in
the learning benchmark it left the prompt rate and calibration error far off target). The
pooled mean is
Laplace-smoothed so a log of only accepts does not produce a prior that rules out a reject.
With too few classes or verdicts the prior is the uniform Beta(1, 1).

The prior is hierarchical, pool → task family → class (`fit_family_prior`): a class's prior
is fitted from its siblings (the same task in other areas and sizes), whose approval rate is
itself shrunk toward a prior fitted across families, so a new class of a task the user keeps
rejecting starts low and one of a task the user keeps approving starts high.
"""

from __future__ import annotations

from collections.abc import Iterable

from tether.config import PolicySettings
from tether.profile.models import PriorFit

#: The strength of the uniform prior Beta(1, 1); also the floor of a fitted prior's strength.
WEAK_STRENGTH = 2.0


def weak_prior(
    settings: PolicySettings, why: str, classes: int = 0, decisions: float = 0.0
) -> PriorFit:
    half = min(WEAK_STRENGTH, settings.prior_strength_max) / 2.0
    return PriorFit(
        alpha=half, beta=half, method="weak", classes=classes, decisions=decisions, reason=why
    )


def fit_prior(counts: Iterable[tuple[float, float]], settings: PolicySettings) -> PriorFit:
    """Fit the shared prior from (approval weight, verdicts) per class."""
    data = [(s, n) for s, n in counts if n > 0]
    k = len(data)
    total = sum(n for _, n in data)
    if k < settings.prior_min_classes or total < settings.prior_min_decisions:
        return weak_prior(
            settings,
            f"uniform prior: {k} classes with {total:g} verdicts; pooling needs "
            f"{settings.prior_min_classes} classes and {settings.prior_min_decisions:g} verdicts",
            k,
            total,
        )
    approvals = sum(s for s, _ in data)
    m = approvals / total
    cap = settings.prior_strength_max
    rho = between_class_correlation(data, m)
    strength = _clip_strength(rho, cap, settings)
    mean = (approvals + 1.0) / (total + 2.0)
    return PriorFit(
        alpha=mean * strength,
        beta=(1.0 - mean) * strength,
        method="pooled",
        classes=k,
        decisions=total,
        pooled_mean=m,
        reason=(
            f"pooled prior from {k} classes and {total:g} verdicts: approval {m:.2f}, "
            f"worth {strength:.1f} decisions (between-class correlation {max(rho, 0.0):.3f}, "
            f"cap {cap:g})"
        ),
    )


def between_class_correlation(data: list[tuple[float, float]], m: float) -> float:
    """The ANOVA estimate of ρ = 1/(a + b + 1); 0 when the classes show no spread to read."""
    k = len(data)
    total = sum(n for _, n in data)
    spread = sum(n * (s / n - m) ** 2 for s, n in data)
    denominator = total - sum(n * n for _, n in data) / total
    if m * (1.0 - m) > 0.0 and denominator > 0.0:
        return (spread / (m * (1.0 - m)) - (k - 1)) / denominator
    return 0.0


def _clip_strength(rho: float, cap: float, settings: PolicySettings) -> float:
    strength = cap if rho <= 0.0 else 1.0 / rho - 1.0
    return min(cap, max(min(settings.prior_strength_min, cap), strength))


def fit_family_prior(
    family: str,
    counts: Iterable[tuple[float, float]],
    pool: PriorFit,
    settings: PolicySettings,
    top: PriorFit | None = None,
) -> PriorFit:
    """The prior of one task family's classes: the middle level of pool → family → class.

    The family's approval rate is its verdicts on top of the pool's prior (so a family of a
    few verdicts sits between the pool and its own rate, and one of many verdicts at its
    own), and its strength the same ANOVA estimate as the pool's, read from the spread
    between the family's classes: siblings that agree (every type-hints class rejected) make
    a strong prior, so a new or sparse sibling starts where they are; siblings that differ
    (docstrings wanted in code, not in tests) a weak one. A family with too few classes or
    verdicts to read a spread from uses the pool's prior.
    """
    data = [(s, n) for s, n in counts if n > 0]
    k = len(data)
    total = sum(n for _, n in data)
    if k < settings.family_min_classes or total < settings.family_min_decisions:
        return pool
    approvals = sum(s for s, _ in data)
    cap = settings.family_strength_max
    rho = between_class_correlation(data, approvals / total)
    strength = _clip_strength(rho, cap, settings)
    top = top or pool
    mean = (top.alpha + approvals) / (top.strength + total)
    return PriorFit(
        alpha=mean * strength,
        beta=(1.0 - mean) * strength,
        method="family",
        family=family,
        classes=k,
        decisions=total,
        pooled_mean=approvals / total,
        reason=(
            f"family prior of {family} from {k} classes and {total:g} verdicts: approval "
            f"{mean:.2f}, worth {strength:.1f} decisions (between-class correlation "
            f"{max(rho, 0.0):.3f}, cap {cap:g})"
        ),
    )
