"""A maintainer who guards stability: no edits to tests, to public signatures, or big ones.

Everything else (small internal clean-ups) is welcome.
"""

from __future__ import annotations

from bench.analysis import compare, mood
from bench.personas import PersonaProposal, Verdict
from bench.rewrites import is_test_path

NAME = "conservative"
_noise = 0.01  # share of proposals rejected for no reason the edit shows ("not now")
MAX_LINES = 20


def configure(noise: float = 0.01) -> None:
    """`noise`: the share of proposals rejected for no visible reason (a bad day)."""
    global _noise
    _noise = noise


def judge(proposal: PersonaProposal) -> Verdict:
    change = compare(proposal.original, proposal.proposed)
    if not change.parses:
        return Verdict.reject("this does not parse")
    assert change.after is not None
    if is_test_path(proposal.path) or change.before.test_functions or change.after.test_functions:
        return Verdict.reject("leave the tests alone")
    if change.signature_changed:
        return Verdict.reject("that changes a public signature; callers would break")
    if change.lines_changed > MAX_LINES:
        return Verdict.reject(f"too big: {change.lines_changed} lines changed (max {MAX_LINES})")
    if mood(proposal.proposed, NAME) < _noise:
        return Verdict.reject("not now")
    return Verdict.accept()
