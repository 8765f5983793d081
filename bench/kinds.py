"""The kind of change each benchmark proposal is, as the agent would label it.

The agent labels a proposal with the tool rule that found the spot (a ruff rule code such
as `E711` or `PTH118`) or with its own kind (`docstring`, `type-hints`, `rename`, …), and
the profile may key its classes on it. The benchmark's proposals are AST rewrites, so their
kind is read off the rewrite: its task, its variant, and for os.path the call it replaced.
Kinds differ inside a task (`E711` and `E721` are both `compare-idiom`; `PIE790` and
`dead-code` both `dead-code`), which is what lets a simulated user want one and not the
other, and what a class key without the kind cannot tell apart.
"""

from __future__ import annotations

import re

from bench.rewrites import Rewrite

#: The ruff rule for each os.path call the pathlib rewrite replaces (flake8-use-pathlib).
PATHLIB_RULES = {
    "abspath": "PTH100",
    "exists": "PTH110",
    "isdir": "PTH112",
    "isfile": "PTH113",
    "join": "PTH118",
    "basename": "PTH119",
    "dirname": "PTH120",
    "getsize": "PTH202",
}

#: Kind per (task, variant); "" matches any variant of the task.
_BY_VARIANT: dict[tuple[str, str], str] = {
    ("fstring", "fstring"): "fstring",  # % straight to an f-string: the agent's own kind
    ("fstring", "format-call"): "UP031",  # ruff's UP031 fix writes str.format()
    ("printf-format", ""): "printf",
    ("compare-idiom", "is-none"): "E711",
    ("compare-idiom", "type-is"): "E721",
    ("compare-idiom", "not-in"): "E713",
    ("eq-none", ""): "eq-none",
    ("docstring", ""): "docstring",
    ("type-hints", ""): "type-hints",
    ("dead-code", "unreachable"): "dead-code",
    ("dead-code", "redundant-pass"): "PIE790",
    ("dead-code", "trailing-return"): "PLR1711",
    ("rename-test", ""): "rename",
    ("keyword-only", ""): "keyword-only",
}

_OS_PATH = re.compile(r"\bos\.path\.(\w+)\(")


def kind_of(rw: Rewrite) -> str:
    """The kind of change of one rewrite (falls back to the task's name)."""
    if rw.task == "pathlib":
        for name in _OS_PATH.findall(rw.original):
            if name in PATHLIB_RULES and f"os.path.{name}(" not in rw.proposed:
                return PATHLIB_RULES[name]
        return "pathlib"
    return _BY_VARIANT.get((rw.task, rw.variant)) or _BY_VARIANT.get((rw.task, ""), rw.task)
