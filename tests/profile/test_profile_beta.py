"""The credible intervals and densities the policy and the plot use, against scipy.stats.beta."""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest
from scipy import stats

from tether.config import PolicySettings
from tether.profile import Profile, beta

PARAMS = [0.05, 0.5, 1.0, 2.0, 7.3, 40.0, 950.0]


@pytest.mark.parametrize(("a", "b"), list(itertools.product(PARAMS, PARAMS)))
def test_quantiles_match_scipy(a: float, b: float) -> None:
    for q in (1e-6, 0.025, 0.05, 0.3, 0.5, 0.9, 0.95, 0.975, 1 - 1e-6):
        assert beta.quantile(a, b, q) == pytest.approx(stats.beta.ppf(q, a, b), abs=1e-12)
    lo, hi = beta.interval(a, b, 0.9)
    assert (lo, hi) == pytest.approx(stats.beta.interval(0.9, a, b), abs=1e-12)


@pytest.mark.parametrize(("a", "b"), [(0.5, 0.5), (1.0, 1.0), (3.0, 9.0), (120.0, 4.5)])
def test_density_matches_scipy(a: float, b: float) -> None:
    for x in (1e-4, 0.1, 0.5, 0.77, 0.999):
        assert beta.pdf(x, a, b) == pytest.approx(stats.beta.pdf(x, a, b), rel=1e-9)
    assert beta.pdf(0.0, a, b) == 0.0 and beta.pdf(1.0, a, b) == 0.0


def test_class_interval_is_the_posteriors_equal_tailed_interval(feed) -> None:
    settings = PolicySettings(credible_mass=0.8, correction_weight=0.25)
    profile = Profile(settings)
    feed(profile)("fix:py", ["accept"] * 7 + ["reject"] * 2 + ["correct"] * 2)
    s = profile.stats("fix:py")
    # one class: uniform prior; 7 accepts + 2 * 0.25, 2 rejects + 2 * 0.75
    assert (s.prior_alpha, s.prior_beta) == (1.0, 1.0)
    assert (s.alpha, s.beta) == (1 + 7.5, 1 + 3.5)
    assert s.lower == pytest.approx(stats.beta.ppf(0.1, 8.5, 4.5), abs=1e-12)
    assert s.upper == pytest.approx(stats.beta.ppf(0.9, 8.5, 4.5), abs=1e-12)
    assert s.mean == pytest.approx(8.5 / 13)


def test_importing_the_profile_does_not_load_scipy() -> None:
    code = "import sys, tether.profile; print([m for m in sys.modules if m.startswith('scipy')])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
