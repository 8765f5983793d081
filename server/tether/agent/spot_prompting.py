"""The prompt for one spot: a ruff finding, the few lines it is on, and a worked example.

A small model follows a demonstration far better than a description, so each spot prompt
shows one solved problem of the same family (an f-string for a %-format, `is None` for
`== None`, a docstring for a missing one) before the real one, and keeps the code it shows
to the spot and a few lines above it. Answers use the same format as every other prompt
(`tether.core.response_format`), so they parse, train and rerank the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from tether.agent.prompting import Message, fenced
from tether.agent.spec import AgentSpec
from tether.agent.spots import RangeText, Spot
from tether.core.memory import MemoryContext
from tether.core.response_format import render_completion

CONTEXT_LINES = 3


@dataclass(frozen=True)
class _Shot:
    rule: str
    message: str
    before: str
    code: str
    rationale: str
    answer: str


_GENERIC = _Shot(
    "E711",
    "Comparison to `None` should be `cond is None`",
    "def label(name, count):",
    "    if name == None:",
    "Compare with `is None`.",
    "    if name is None:",
)
_FAMILIES: dict[str, _Shot] = {
    "UP03": _Shot(
        "UP031",
        "Use format specifiers instead of percent format",
        "def label(name, count):",
        '    return "%s: %d items" % (name, count)',
        "Use an f-string with the same text and values.",
        '    return f"{name}: {count} items"',
    ),
    "PERF": _Shot(
        "PERF401",
        "Use a list comprehension to create a transformed list",
        "    result = []",
        "    for x in values:\n        if x > 0:\n            result.append(x * 2)",
        "Extend the list with a comprehension.",
        "    result.extend(x * 2 for x in values if x > 0)",
    ),
    "D1": _Shot(
        "D103",
        "Missing docstring in public function",
        "import math",
        "def area(radius):",
        "Add a docstring saying what the function returns.",
        'def area(radius):\n    """Return the area of a circle of the given radius."""',
    ),
    "E7": _GENERIC,
}


def _shot_for(rule: str) -> _Shot:
    for prefix, shot in _FAMILIES.items():
        if rule.startswith(prefix):
            return shot
    return _GENERIC


def _user(path: str, rule: str, message: str, before: str, code: str) -> str:
    lines = [f"File: {path}", f"Problem found by ruff: {rule} {message}"]
    if before.strip():
        lines += ["Code above (do not change):", fenced(before, "python")]
    lines += ["Lines to fix (answer with their new version):", fenced(code, "python")]
    return "\n".join(lines)


def spot_messages(
    spec: AgentSpec, path: str, rt: RangeText, spot: Spot, memory: MemoryContext
) -> list[Message]:
    """Chat messages asking the model to fix one spot."""
    system = [
        spec.purpose.strip(),
        "Fix exactly the problem named, in the lines given. Keep every name, value, string "
        "text and the indentation; change nothing else. Answer with one short sentence, "
        "then one fenced code block holding only the new version of those lines.",
    ]
    if memory.rules:
        system.append(
            "Rules this user agreed on:\n" + "\n".join(f"- {r.text}" for r in memory.rules)
        )
    shot = _shot_for(spot.rule)
    before, _ = spot_context(rt, spot)
    code = rt.text[spot.start : spot.end].rstrip("\n")
    return [
        {"role": "system", "content": "\n\n".join(system)},
        {
            "role": "user",
            "content": _user("example.py", shot.rule, shot.message, shot.before, shot.code),
        },
        {"role": "assistant", "content": render_completion(shot.answer, "python", shot.rationale)},
        {"role": "user", "content": _user(path, spot.rule, spot.finding.message, before, code)},
    ]


def spot_context(rt: RangeText, spot: Spot) -> tuple[str, str]:
    """The lines shown around a spot (to catch answers that echo them)."""
    doc_lines = rt.document.split("\n")
    before = "\n".join(doc_lines[max(0, spot.first - CONTEXT_LINES) : spot.first])
    after = "\n".join(doc_lines[spot.last + 1 : spot.last + 1 + CONTEXT_LINES])
    return before, after


def spot_budget(code: str) -> int:
    """New tokens a spot's answer may take: a sentence plus the lines, with room to spare.

    Python code runs about three characters a token in SmolLM2's tokenizer; an answer that
    needs twice the spot's length plus a sentence has wandered off, and stopping it early
    keeps a request within seconds on a CPU.
    """
    return 48 + (2 * len(code)) // 3


def range_budget(code: str) -> int:
    """New tokens a whole-selection answer may take: the selection rewritten, plus some."""
    return 96 + (len(code) * 3) // 4
