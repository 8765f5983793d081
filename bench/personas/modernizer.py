"""A developer who wants modern Python: f-strings, pathlib, `is None`, type hints.

Drifts: at decision `drift_at` (half the run, by default 200) they decide type hints are
clutter in this codebase and reject edits that add them from then on. A learner that
never forgets keeps auto-applying type hints after that; one that tracks drift asks again.
"""

from __future__ import annotations

from bench.analysis import compare, mood
from bench.personas import PersonaProposal, Verdict
from bench.rewrites import format_calls_to_fstrings

NAME = "modernizer"
_noise = 0.01  # share of proposals rejected for no reason the edit shows ("not now")

_drift_at: int | None = 200


def configure(drift_at: int | None = 200, noise: float = 0.01) -> None:
    """`drift_at`: the decision count at which type hints stop being welcome (None: never);
    `noise`: the share of proposals rejected for no visible reason."""
    global _drift_at, _noise
    _drift_at, _noise = drift_at, noise


def judge(proposal: PersonaProposal) -> Verdict:
    change = compare(proposal.original, proposal.proposed)
    if not change.parses:
        return Verdict.reject("this does not even parse")
    drifted = _drift_at is not None and proposal.index >= _drift_at
    if change.delta("fstrings") < 0 or change.delta("percent_formats") > 0:
        return Verdict.reject("f-strings, please, not % formatting")
    if change.delta("unidiomatic_compares") > 0:
        return Verdict.reject("compare with `is None` / `not in`, not `==`")
    if change.delta("os_path_calls") > 0:
        return Verdict.reject("use pathlib, not os.path")
    if change.delta("annotations") < 0:
        return Verdict.reject("keep the type hints")
    if drifted and change.delta("annotations") > 0:
        return Verdict.reject("changed my mind: no type hints in this code base")
    if change.delta("format_calls") > 0:
        fixed = format_calls_to_fstrings(proposal.proposed)
        if fixed != proposal.proposed:
            return Verdict.correct(fixed, "an f-string, not .format()")
    if mood(proposal.proposed, NAME) < _noise:
        return Verdict.reject("not now")
    return Verdict.accept()
