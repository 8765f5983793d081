"""Turn a class's posterior into ask / auto / quiet, with the reason spelled out in numbers.

Two posteriors per class feed the choice. The whole-history posterior (`base_mode`) says
what the user has done all along; the recent posterior discounts each verdict by its age
(the moving average's half-life) and is what the policy acts on, because it is the honest
prediction for the next proposal when the user may have changed their mind. When the two
disagree the decision carries the `drift` override and both sets of numbers.

Order of precedence: the agent spec's boundaries, then the user's pins, then the recent
posterior (auto when its interval's lower bound clears the auto threshold, quiet when its
upper bound is under the quiet threshold), the drift margin (a moving average clearly off
the long-run mean sends auto or quiet back to ask) and the recovery rule, then the check-in
and exploration.

Check-in: an auto class asks once `check_every` of its proposals in a row had no verdict of
the user (`unlabeled`). Applied edits are not evidence, so an auto class learns only from the
proposals it asks about; when the user changes their mind, every edit applied before the next
ask is an unwanted one. Random exploration at rate e leaves a geometric wait (mean (1-e)/e
applied edits, with a long tail) before that ask; a schedule at the same cost (one in
1/e) halves the mean wait and bounds it. In the learning benchmark the check-in every 5 with
exploration 0.1 cut the modernizer's false autos from 3.9% to 1.4% (seeds 0-4) and from 4.5%
to 2.9% (held-out seeds 5-9) at about the same prompt rate as exploration 0.2 alone. Random
exploration stays, at half its old rate: asks between the scheduled ones still catch some
changes of mind earlier (with it off, the same benchmark gave 2.3% on seeds 0-4).

Quiet per kind: hiding a proposal is decided on the user's own verdicts, never on what the
prior borrowed. With the kind of change in the class key each class is one kind (in one area
and size), and it goes quiet only once it has `min_quiet_evidence` verdicts of its own (one,
by default) and its posterior rules it out. A kind the user accepts therefore stays visible
in a task they mostly reject: a new class of it stands on a low prior, but is asked before it
can be hidden. (Judging quiet on the kind across its classes instead hid 9% of what the
conservative persona wanted in the learning benchmark: it accepts docstrings in code and
rejects them in tests, one kind in two areas.) The check-in counts per kind, so after a
change of mind about a kind at most `check_every` of its edits are applied before one is
asked, however many classes (areas, sizes) the kind spans.

Recovery: after a rejection, a class asks until `recovery` approvals in a row. In an auto
class the only rejections the profile can see come from exploration asks (applied edits are
the policy's doing, not evidence), so one such rejection is the first sign of drift; asking
the next few proposals costs a few prompts and is the only way to find out before more
unwanted edits are applied. Exploration applies to quiet classes too: a class that is never
shown never gets the labels that could bring it back.
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


def interval_mode(lower: float, upper: float, settings: PolicySettings) -> Mode:
    if lower >= settings.auto_threshold:
        return "auto"
    if upper < settings.quiet_threshold:
        return "quiet"
    return "ask"


def posterior_mode(stats: ClassStats, settings: PolicySettings) -> Mode:
    """What the whole history says."""
    return interval_mode(stats.lower, stats.upper, settings)


def recent_mode(stats: ClassStats, settings: PolicySettings) -> Mode:
    """What the recent (age-discounted) posterior says."""
    return interval_mode(stats.recent_lower, stats.recent_upper, settings)


def drifted(stats: ClassStats, mode: Mode, settings: PolicySettings) -> bool:
    """The recent approvals contradict `mode` by more than the drift margin."""
    if stats.ema is None:
        return False
    if mode == "auto":
        return stats.ema < stats.mean - settings.drift_margin
    if mode == "quiet":
        return stats.ema > stats.mean + settings.drift_margin
    return False


def quiet_earned(stats: ClassStats, settings: PolicySettings) -> bool:
    """The class has enough of the user's own verdicts to be hidden on them."""
    return stats.n >= settings.min_quiet_evidence


def _edits(stats: ClassStats) -> str:
    return f"{stats.kind} edits" if stats.kind else "edits of this class"


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
    recent = recent_mode(stats, settings)
    mode: Mode = base
    override: Override | None = None
    predicted = stats.mean  # the posterior the choice rests on; drift swaps in another
    explored = False
    why = _posterior_reason(stats, base, settings)
    if base != "quiet" and stats.reject_run > 0 and stats.run_upper < settings.quiet_threshold:
        mode, override, predicted = "quiet", "drift", stats.run_mean
        why = (
            f"drift: the latest {stats.reject_run} verdicts were rejections; judged alone they "
            f"give an upper bound {stats.run_upper:.2f} < quiet threshold "
            f"{settings.quiet_threshold:.2f}; the whole history says {base}: {why}"
        )
    elif base != "quiet" and recent == "quiet":
        mode, override, predicted = "quiet", "drift", stats.recent_mean
        why = (
            f"drift: the recent verdicts alone rule the class out: "
            f"{_recent_reason(stats, recent, settings)}; the whole history says {base}: {why}"
        )
    elif base == "auto" and stats.recent_mean < settings.auto_threshold:
        mode, override, predicted = "ask", "drift", stats.recent_mean
        why = (
            f"drift: the predicted approval {stats.recent_mean:.2f} (verdicts discounted with a "
            f"half-life of {settings.ema_half_life:g}) is under the auto threshold "
            f"{settings.auto_threshold:.2f}; else auto: {why}"
        )
    elif drifted(stats, base, settings):
        mode, override, predicted = "ask", "drift", stats.recent_mean
        direction = "under" if base == "auto" else "over"
        assert stats.ema is not None
        why = (
            f"drift: recent approval {stats.ema:.2f} is {abs(stats.mean - stats.ema):.2f} "
            f"{direction} the mean {stats.mean:.2f} (margin {settings.drift_margin:.2f}); "
            f"else {base}: {why}"
        )
    if mode == "auto" and stats.n < settings.min_auto_evidence:
        mode, override = "ask", "recovery"
        why = (
            f"too little evidence: {stats.n} verdicts of its own, auto needs "
            f"{settings.min_auto_evidence}; else auto: {why}"
        )
    elif mode == "auto" and stats.since_reject < settings.recovery:
        mode, override = "ask", "recovery"
        why = (
            f"recovery: {stats.since_reject} approvals since the latest rejection, auto needs "
            f"{settings.recovery} in a row; else auto: {why}"
        )
    elif mode == "quiet" and not quiet_earned(stats, settings):
        mode, override = "ask", "recovery"
        why = (
            f"too few of your own verdicts to hide it: {stats.n} on edits of this class "
            f"({stats.kind_rejects} of {stats.kind_verdicts} {_edits(stats)} rejected); quiet "
            f"needs {settings.min_quiet_evidence}; else quiet: {why}"
        )
    elif mode == "quiet" and stats.kind:
        why = f"you rejected {stats.kind_rejects} of {stats.kind_verdicts} {_edits(stats)}; {why}"
    elif mode == "auto" and stats.kind:
        approved = stats.kind_verdicts - stats.kind_rejects
        why = f"you approved {approved} of {stats.kind_verdicts} {_edits(stats)}; {why}"
    chosen = mode
    if always_ask:
        mode, override = "ask", "boundary"
        why = f"the agent spec's boundaries always ask for this task (else {chosen}: {why})"
    elif pin is not None and (pin not in PIN_MODES or pin == "always_ask" or chosen == "auto"):
        mode, override = "ask", "pin"
        label = (
            pin.replace("_", " ")
            if pin in PIN_MODES
            else f"unknown pin {pin!r}, read as always ask"
        )
        why = f"pinned {label} (else {chosen}: {why})"
    elif explore and mode != "ask":
        every = settings.check_every if mode == "auto" else settings.quiet_check_every
        rate = settings.exploration if mode == "auto" else settings.quiet_exploration
        asked = None
        unlabeled = stats.kind_unlabeled if mode == "auto" else stats.unlabeled
        if every > 0 and unlabeled >= every:
            what = f"{stats.kind} proposals" if stats.kind else "proposals of this class"
            asked = (
                f"check-in: {unlabeled} {what} in a row without your "
                f"verdict; {mode} classes ask one in {every}"
            )
        elif rate > 0.0 and (rng or _DEFAULT_RNG).random() < rate:
            asked = f"exploration: {rate:.0%} of {mode} decisions are asked so labels keep flowing"
        if asked is not None:
            why = f"{asked}; else {mode}: {why}"
            mode, override, explored = "ask", "exploration", True
    risky_flags = sorted(set(risk) & set(settings.risky_flags))
    numbers = _numbers(stats, settings, base, recent, override, explored, pin, always_ask)
    numbers["predicted"] = predicted
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


def _rule(lower: float, upper: float, mode: Mode, s: PolicySettings) -> str:
    if mode == "auto":
        return f"lower bound {lower:.2f} ≥ auto threshold {s.auto_threshold:.2f}"
    if mode == "quiet":
        return f"upper bound {upper:.2f} < quiet threshold {s.quiet_threshold:.2f}"
    return (
        f"lower bound {lower:.2f} < auto threshold {s.auto_threshold:.2f} and "
        f"upper bound {upper:.2f} ≥ quiet threshold {s.quiet_threshold:.2f}"
    )


def _posterior_reason(stats: ClassStats, base: Mode, s: PolicySettings) -> str:
    summary = (
        f"approval {stats.mean:.2f}, {s.credible_mass:.0%} interval "
        f"[{stats.lower:.2f}, {stats.upper:.2f}] from n={stats.n} "
        f"({stats.accepts} accepted, {stats.rejects} rejected, {stats.corrections} corrected) "
        f"on {_prior_label(stats)}"
    )
    return f"{summary}; {_rule(stats.lower, stats.upper, base, s)}"


def _prior_label(stats: ClassStats) -> str:
    """Which prior the class stands on, and what it is worth."""
    strength = stats.prior_alpha + stats.prior_beta
    where = {
        "kind": f"the prior of {stats.kind} edits in their task",
        "family": f"the {stats.class_key.partition(':')[0]} family's prior",
        "pooled": "the pool's prior",
        "weak": "a uniform prior",
    }[stats.prior_method]
    return f"{where} (approval {stats.prior_alpha / strength:.2f}, worth {strength:.1f} decisions)"


def _recent_reason(stats: ClassStats, recent: Mode, s: PolicySettings) -> str:
    summary = (
        f"recent approval {stats.recent_mean:.2f}, {s.credible_mass:.0%} interval "
        f"[{stats.recent_lower:.2f}, {stats.recent_upper:.2f}] from {stats.ema_weight:.1f} "
        "effective verdicts"
    )
    return f"{summary}; {_rule(stats.recent_lower, stats.recent_upper, recent, s)}"


def _numbers(
    stats: ClassStats,
    s: PolicySettings,
    base: Mode,
    recent: Mode,
    override: Override | None,
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
        "prior_method": stats.prior_method,
        "ema": stats.ema,
        "ema_weight": stats.ema_weight,
        "predicted": stats.mean,
        "recent_mean": stats.recent_mean,
        "recent_lower": stats.recent_lower,
        "recent_upper": stats.recent_upper,
        "recent_mode": recent,
        "since_reject": stats.since_reject,
        "reject_run": stats.reject_run,
        "unlabeled": stats.unlabeled,
        "kind": stats.kind,
        "kind_verdicts": stats.kind_verdicts,
        "kind_rejects": stats.kind_rejects,
        "kind_unlabeled": stats.kind_unlabeled,
        "min_quiet_evidence": s.min_quiet_evidence,
        "run_upper": stats.run_upper,
        "auto_threshold": s.auto_threshold,
        "quiet_threshold": s.quiet_threshold,
        "drift_margin": s.drift_margin,
        "recovery": s.recovery,
        "min_auto_evidence": s.min_auto_evidence,
        "exploration": s.exploration,
        "quiet_exploration": s.quiet_exploration,
        "check_every": s.check_every,
        "quiet_check_every": s.quiet_check_every,
        "base_mode": base,
        "drift": override == "drift",
        "explored": explored,
        "pin": pin,
        "boundary": always_ask,
    }
