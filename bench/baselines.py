"""Baselines over the same verdict stream as the profile's policy, and the side-by-side numbers.

Every baseline decides the very proposals the policy decided, with the persona's verdict on
each already known (`Step.verdict`), so the comparison is paired:

- **always ask**: every proposal is shown. Its accept rate is the persona's base rate.
- **hindsight oracle**: knows each class's true approval, read from the persona's own verdicts
  over the whole stream: auto when it is at least 0.9, quiet when at most 0.1, else ask. Its
  false autos are the floor any policy keyed on the same classes can reach: the rejections
  no class key explains.
- **Cursor-style**: a logistic model over the class's features (the key's parts and the kind
  of change, one-hot) predicts P(accept) from the verdicts seen so far, refitted every few
  decisions; a proposal is shown when the prediction is at least 0.25, never applied on its
  own. Suppressed proposals teach it nothing (the user never saw them), as in an editor.

`policy_numbers` scores one policy's modes: prompts, accept rate of what was shown, false
autos, wanted edits hidden by quiet, and after a change of mind the edits of the flipped kind
applied before the first ask.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Protocol

#: Oracle thresholds on a class's true approval.
ORACLE_AUTO = 0.9
ORACLE_QUIET = 0.1
#: The Cursor-style policy shows a proposal when P(accept) is at least this.
CURSOR_SHOW = 0.25
#: It refits its model after this many new verdicts.
CURSOR_REFIT = 20


class StepLike(Protocol):
    index: int
    class_key: str
    mode: str
    verdict: str
    label: float
    kind: str


def always_ask(steps: Sequence[StepLike]) -> list[str]:
    return ["failed" if s.mode == "failed" else "ask" for s in steps]


def oracle(steps: Sequence[StepLike]) -> list[str]:
    """Auto / quiet / ask from each class's true approval over the whole stream."""
    labels: dict[str, list[float]] = defaultdict(list)
    for s in steps:
        if s.mode != "failed":
            labels[s.class_key].append(s.label)
    truth = {k: sum(v) / len(v) for k, v in labels.items()}
    modes = []
    for s in steps:
        if s.mode == "failed":
            modes.append("failed")
        elif truth[s.class_key] >= ORACLE_AUTO:
            modes.append("auto")
        elif truth[s.class_key] <= ORACLE_QUIET:
            modes.append("quiet")
        else:
            modes.append("ask")
    return modes


def features(step: StepLike) -> dict[str, str]:
    """One-hot features of a proposal's class: each part of its key by position, and its kind."""
    out = {f"part{i}": v for i, v in enumerate(step.class_key.split(":"))}
    out["kind"] = f"{step.class_key.partition(':')[0]}:{step.kind}"
    return out


def cursor(steps: Sequence[StepLike], show: float = CURSOR_SHOW) -> list[str]:
    """Show iff a logistic model over class features predicts P(accept) >= `show`; never auto."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    modes: list[str] = []
    seen_x: list[dict[str, str]] = []
    seen_y: list[int] = []
    model: Any = None
    vec: Any = None
    fitted_at = 0
    for s in steps:
        if s.mode == "failed":
            modes.append("failed")
            continue
        if len(seen_y) - fitted_at >= CURSOR_REFIT and len(set(seen_y)) == 2:
            vec = DictVectorizer()
            model = LogisticRegression(max_iter=1000).fit(vec.fit_transform(seen_x), seen_y)
            fitted_at = len(seen_y)
        x = features(s)
        p = 1.0 if model is None else float(model.predict_proba(vec.transform([x]))[0, 1])
        if p >= show:
            modes.append("ask")
            seen_x.append(x)
            seen_y.append(0 if s.verdict == "reject" else 1)
        else:
            modes.append("quiet")
    return modes


def flipped_kinds(steps: Sequence[StepLike], at: int, least: int = 3) -> set[str]:
    """Kinds the persona approved (≥ 0.9) before decision `at` and rejects (≤ 0.1) after."""
    before: dict[str, list[float]] = defaultdict(list)
    after: dict[str, list[float]] = defaultdict(list)
    for s in steps:
        if s.mode != "failed":
            (before if s.index < at else after)[s.kind].append(s.label)
    return {
        k
        for k in before
        if len(before[k]) >= least
        and len(after.get(k, [])) >= least
        and sum(before[k]) / len(before[k]) >= ORACLE_AUTO
        and sum(after[k]) / len(after[k]) <= ORACLE_QUIET
    }


def applied_before_ask(
    steps: Sequence[StepLike], modes: Sequence[str], at: int, kinds: set[str]
) -> int | None:
    """After the change of mind at `at`: the most edits of one flipped kind auto-applied before
    that kind's first ask (None when no kind flipped)."""
    if not kinds:
        return None
    worst = 0
    for kind in kinds:
        applied = 0
        for s, mode in zip(steps, modes, strict=True):
            if s.index < at or s.kind != kind:
                continue
            if mode == "ask":
                break
            applied += mode == "auto"
        worst = max(worst, applied)
    return worst


def policy_numbers(
    steps: Sequence[StepLike], modes: Sequence[str], flip_at: int | None = None
) -> dict[str, Any]:
    """Counts for one policy's modes over a stream (sums, so seeds pool by adding)."""
    live = [(s, m) for s, m in zip(steps, modes, strict=True) if m != "failed"]
    shown = [s for s, m in live if m == "ask"]
    autos = [s for s, m in live if m == "auto"]
    quiet = [s for s, m in live if m == "quiet"]
    wanted = [s for s, _ in live if s.verdict != "reject"]
    kinds = flipped_kinds(steps, flip_at) if flip_at is not None else set()
    return {
        "decisions": len(live),
        "prompts": len(shown),
        "shown_taken": sum(s.verdict != "reject" for s in shown),
        "autos": len(autos),
        "false_autos": sum(s.verdict == "reject" for s in autos),
        "quiet": len(quiet),
        "wanted": len(wanted),
        "wanted_quiet": sum(s.verdict != "reject" for s in quiet),
        "flipped_kinds": sorted(kinds),
        "applied_before_ask": (
            applied_before_ask(steps, modes, flip_at, kinds) if flip_at is not None else None
        ),
    }


def all_policies(steps: Sequence[StepLike], flip_at: int | None = None) -> dict[str, Any]:
    """The profile's policy (the steps' own modes) and the three baselines, side by side."""
    return {
        "tether": policy_numbers(steps, [s.mode for s in steps], flip_at),
        "always_ask": policy_numbers(steps, always_ask(steps), flip_at),
        "oracle": policy_numbers(steps, oracle(steps), flip_at),
        "cursor": policy_numbers(steps, cursor(steps), flip_at),
    }


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def pooled(per_seed: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Sum one policy's counts over seeds and derive the rates the targets read."""
    keys = ("decisions", "prompts", "shown_taken", "autos", "false_autos", "quiet", "wanted")
    total: dict[str, Any] = {k: sum(p[k] for p in per_seed) for k in keys}
    total["wanted_quiet"] = sum(p["wanted_quiet"] for p in per_seed)
    flips = [p["applied_before_ask"] for p in per_seed if p["applied_before_ask"] is not None]
    total["applied_before_ask_worst"] = max(flips) if flips else None
    total["false_auto_rate"] = _ratio(total["false_autos"], total["autos"])
    total["accept_rate_shown"] = _ratio(total["shown_taken"], total["prompts"])
    total["wanted_quiet_share"] = _ratio(total["wanted_quiet"], total["wanted"])
    total["prompt_share"] = _ratio(total["prompts"], total["decisions"])
    return total


def compare(per_seed: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pool each policy over the seeds and read the targets against the baselines."""
    names = per_seed[0].keys() if per_seed else ()
    out: dict[str, Any] = {name: pooled([p[name] for p in per_seed]) for name in names}
    if not out:
        return out
    ask = out["always_ask"]
    for p in out.values():
        p["accept_lift"] = (
            _ratio(p["accept_rate_shown"], ask["accept_rate_shown"])
            if p["accept_rate_shown"] is not None and ask["accept_rate_shown"]
            else None
        )
        p["fewer_prompts"] = 1.0 - p["prompts"] / ask["prompts"] if ask["prompts"] else None
    return out
