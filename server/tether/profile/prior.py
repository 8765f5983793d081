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
    spread = sum(n * (s / n - m) ** 2 for s, n in data)
    denominator = total - sum(n * n for _, n in data) / total
    cap = settings.prior_strength_max
    rho = 0.0
    if m * (1.0 - m) > 0.0 and denominator > 0.0:
        rho = (spread / (m * (1.0 - m)) - (k - 1)) / denominator
    strength = cap if rho <= 0.0 else 1.0 / rho - 1.0
    strength = min(cap, max(min(settings.prior_strength_min, cap), strength))
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
