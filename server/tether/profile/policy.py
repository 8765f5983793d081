"""Turn a class's posterior into ask / auto / quiet, with the reason spelled out in numbers.

Order of precedence: the agent spec's boundaries, then the user's pins, then the posterior
(auto when the interval's lower bound clears the auto threshold, quiet when its upper bound
is under the quiet threshold), then drift and exploration, which can only turn auto or quiet
back into ask. Exploration applies to quiet classes too: a class that is never shown never
gets the labels that could bring it back.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping
from typing import Any, Protocol

from tether.config import PolicySettings
from tether.profile.models import ClassStats, Mode, Override, PolicyDecision

PIN_MODES = ("always_ask", "never_auto")

_DEFAULT_RNG = random.Random()


class RandomSource(Protocol):
    def random(self) -> float: ...


def posterior_mode(stats: ClassStats, settings: PolicySettings) -> Mode:
    if stats.lower >= settings.auto_threshold:
        return "auto"
    if stats.upper < settings.quiet_threshold:
        return "quiet"
    return "ask"


def drifted(stats: ClassStats, mode: Mode, settings: PolicySettings) -> bool:
    """The recent approvals contradict `mode` by more than the drift margin."""
    if stats.ema is None:
        return False
    if mode == "auto":
        return stats.ema < stats.mean - settings.drift_margin
    if mode == "quiet":
        return stats.ema > stats.mean + settings.drift_margin
    return False


def decide(
    stats: ClassStats,
    settings: PolicySettings,
    risk: Collection[str] = (),
    *,
    pins: Mapping[str, str] | None = None,
    always_ask: bool = False,
    rng: RandomSource | None = None,
    explore: bool = True,
) -> PolicyDecision:
    pin = (pins or {}).get(stats.class_key)
    base = posterior_mode(stats, settings)
    drift = drifted(stats, base, settings)
    mode: Mode = base
    override: Override | None = None
    explored = False
    why = _posterior_reason(stats, base, settings)
    if always_ask:
        mode, override = "ask", "boundary"
        why = f"the agent spec's boundaries always ask for this task (else {base}: {why})"
    elif pin is not None and (pin not in PIN_MODES or pin == "always_ask" or base == "auto"):
        mode, override = "ask", "pin"
        label = (
            pin.replace("_", " ")
            if pin in PIN_MODES
            else f"unknown pin {pin!r}, read as always ask"
        )
        why = f"pinned {label} (else {base}: {why})"
    elif drift:
        mode, override = "ask", "drift"
        direction = "under" if base == "auto" else "over"
        assert stats.ema is not None
        why = (
            f"drift: recent approval {stats.ema:.2f} is {abs(stats.mean - stats.ema):.2f} "
            f"{direction} the mean {stats.mean:.2f} (margin {settings.drift_margin:.2f}); "
            f"else {base}: {why}"
        )
    elif explore and base != "ask" and settings.exploration > 0.0:
        draw = (rng or _DEFAULT_RNG).random()
        if draw < settings.exploration:
            mode, override, explored = "ask", "exploration", True
            why = (
                f"exploration: {settings.exploration:.0%} of {base} decisions are asked so "
                f"labels keep flowing; else {base}: {why}"
            )
    risky_flags = sorted(set(risk) & set(settings.risky_flags))
    numbers = _numbers(stats, settings, base, drift, explored, pin, always_ask)
    return PolicyDecision(
        class_key=stats.class_key,
        mode=mode,
        base_mode=base,
        override=override,
        reason=f"{mode}: {why}",
        numbers=numbers,
        risky=bool(risky_flags),
        risky_flags=risky_flags,
    )


def _posterior_reason(stats: ClassStats, base: Mode, s: PolicySettings) -> str:
    summary = (
        f"approval {stats.mean:.2f}, {s.credible_mass:.0%} interval "
        f"[{stats.lower:.2f}, {stats.upper:.2f}] from n={stats.n} "
        f"({stats.accepts} accepted, {stats.rejects} rejected, {stats.corrections} corrected)"
    )
    if base == "auto":
        rule = f"lower bound {stats.lower:.2f} ≥ auto threshold {s.auto_threshold:.2f}"
    elif base == "quiet":
        rule = f"upper bound {stats.upper:.2f} < quiet threshold {s.quiet_threshold:.2f}"
    else:
        rule = (
            f"lower bound {stats.lower:.2f} < auto threshold {s.auto_threshold:.2f} and "
            f"upper bound {stats.upper:.2f} ≥ quiet threshold {s.quiet_threshold:.2f}"
        )
    return f"{summary}; {rule}"


def _numbers(
    stats: ClassStats,
    s: PolicySettings,
    base: Mode,
    drift: bool,
    explored: bool,
    pin: str | None,
    always_ask: bool,
) -> dict[str, Any]:
    return {
        "mean": stats.mean,
        "lower": stats.lower,
        "upper": stats.upper,
        "credible_mass": s.credible_mass,
        "n": stats.n,
        "accepts": stats.accepts,
        "rejects": stats.rejects,
        "corrections": stats.corrections,
        "alpha": stats.alpha,
        "beta": stats.beta,
        "prior_alpha": stats.prior_alpha,
        "prior_beta": stats.prior_beta,
        "ema": stats.ema,
        "auto_threshold": s.auto_threshold,
        "quiet_threshold": s.quiet_threshold,
        "drift_margin": s.drift_margin,
        "exploration": s.exploration,
        "base_mode": base,
        "drift": drift,
        "explored": explored,
        "pin": pin,
        "boundary": always_ask,
    }
