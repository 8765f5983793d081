"""Insights: a short list of rules kept up to date by ADD / EDIT / AGREE / REMOVE.

Rules start with one vote and reach prompts only once agreed again (by a later decision,
the teacher, or the user editing them), so one stray rejection does not become law.
REMOVE from a decision lowers a rule's votes and drops it at zero; a user's remove
deletes it at once. Without a teacher, a new reason either agrees with a similar rule or
is added as a new one; with a teacher, the teacher picks the operation.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

if TYPE_CHECKING:
    from tether.core.memory import Generate, Rule

log = logging.getLogger("tether.memory")

OpKind = Literal["ADD", "EDIT", "AGREE", "REMOVE"]
SIMILAR = 0.5  # Jaccard overlap of content words for "this reason restates that rule"

_STOP = frozenset(
    {
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "is",
        "are",
        "be",
        "it",
        "this",
        "that",
        "do",
        "not",
        "don't",
        "dont",
        "no",
        "use",
        "please",
        "should",
        "would",
        "i",
        "we",
        "you",
        "my",
        "our",
    }
)


class InsightOp(BaseModel):
    op: OpKind
    rule_id: str | None = None  # EDIT, AGREE, REMOVE
    text: str | None = None  # ADD, EDIT


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9_]+", text.lower()) if len(w) > 2 and w not in _STOP}


def similarity(a: str, b: str) -> float:
    wa, wb = words(a), words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / len(wa | wb)


def rule_text(reason: str) -> str:
    """A user's reason, tidied into a rule."""
    text = " ".join(reason.split()).strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def heuristic_op(reason: str, rules: list[Rule]) -> InsightOp | None:
    text = rule_text(reason)
    if not words(text):
        return None
    best = max(rules, key=lambda r: similarity(text, r.text), default=None)
    if best is not None and similarity(text, best.text) >= SIMILAR:
        return InsightOp(op="AGREE", rule_id=best.id)
    return InsightOp(op="ADD", text=text)


_OP_LINE = re.compile(
    r"^\s*(?:[-*]\s*)?(ADD|EDIT|AGREE|REMOVE|NONE)\b\s*(?:#?\s*(\d+))?\s*[:.\-]?\s*(.*)$", re.I
)


def parse_op(text: str, rules: list[Rule]) -> InsightOp | Literal["NONE"] | None:
    """The first operation line of a teacher's answer; None when there is none."""
    for line in text.splitlines():
        m = _OP_LINE.match(line)
        if not m:
            continue
        kind, num, rest = m.group(1).upper(), m.group(2), m.group(3).strip()
        if kind == "NONE":
            return "NONE"
        if kind == "ADD":
            return InsightOp(op="ADD", text=rule_text(rest)) if words(rest) else None
        if num is None or not (1 <= int(num) <= len(rules)):
            return None
        rid = rules[int(num) - 1].id
        if kind == "EDIT":
            return InsightOp(op="EDIT", rule_id=rid, text=rule_text(rest)) if words(rest) else None
        return InsightOp(op=kind, rule_id=rid)  # type: ignore[arg-type]
    return None


async def teacher_op(
    generate: Generate, lesson: str, rules: list[Rule], redact_patterns: tuple[str, ...] = ()
) -> InsightOp | Literal["NONE"] | None:
    from tether.core.redaction import Redactor, redact_messages

    listing = "\n".join(f"{i}. {r.text} (votes {r.votes})" for i, r in enumerate(rules, 1))
    messages = [
        {
            "role": "system",
            "content": (
                "You maintain a short list of rules for a coding assistant, learned from one "
                "user's decisions. Reply with exactly one line: `ADD: <rule>`, `EDIT <n>: <rule>`, "
                "`AGREE <n>`, `REMOVE <n>` or `NONE`."
            ),
        },
        {"role": "user", "content": f"Rules:\n{listing or '(none yet)'}\n\nNew lesson: {lesson}"},
    ]
    redactor = Redactor(redact_patterns)
    try:
        answer = await generate(redact_messages(messages, redactor), 64)
    except Exception as exc:
        log.warning("teacher could not update the rules (%s); using the heuristic", exc)
        return None
    return parse_op(redactor.restore(answer), rules)
