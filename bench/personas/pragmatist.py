"""A pragmatist: wants fixes that matter, rejects style churn. Rejects most proposals.

Wanted: `== None` turned into `is None` (E711) and `type(x) == T` into `is` (E721), which
can change behaviour; unreachable code deleted; optional parameters made keyword-only (call
sites stop passing them by position by mistake). Everything else (f-strings, pathlib,
docstrings, type hints, renames, `not x in y`, a redundant `pass` or `return`) is churn.
Wanted and unwanted kinds share tasks (E711 and E713 are both idiomatic comparisons; an
unreachable block and a redundant `pass` are both dead code), so a policy that cannot tell
kinds apart hides what this user wants.

Written as a plain function over dicts (the persona interface without any bench import):
`judge(dict) -> dict`.
"""

from __future__ import annotations

import ast
import hashlib
import textwrap
from typing import Any

NAME = "pragmatist"
WANTED = frozenset({"E711", "E721", "dead-code", "keyword-only"})
_noise = 0.01  # share of wanted proposals rejected for no reason the edit shows ("not now")


def configure(noise: float = 0.01) -> None:
    """`noise`: the share of wanted proposals rejected for no visible reason."""
    global _noise
    _noise = noise


def _parses(code: str) -> bool:
    try:
        ast.parse(textwrap.dedent(code))
    except SyntaxError:
        return False
    return True


def _bad_day(text: str) -> bool:
    digest = hashlib.sha256(f"{NAME}\n{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < _noise


def judge(proposal: dict[str, Any]) -> dict[str, Any]:
    if not _parses(proposal["proposed"]):
        return {"decision": "reject", "reason": "this does not parse"}
    if proposal["kind"] not in WANTED:
        return {"decision": "reject", "reason": f"{proposal['kind']}: churn, not a fix"}
    if _bad_day(proposal["proposed"]):
        return {"decision": "reject", "reason": "not now"}
    return {"decision": "accept", "reason": None, "corrected": None}
