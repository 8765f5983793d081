"""Reflections: a one-line lesson from a rejection with a reason, or from a correction.

Without a teacher the lesson is built from the diff and the user's words, which is
faithful if plain; with a teacher configured, the teacher writes it (from a redacted
view), which generalises better ("prefer pathlib in this project" rather than one line).
"""

from __future__ import annotations

import difflib
import logging

from tether.core.memory import Generate
from tether.core.types import Proposal

log = logging.getLogger("tether.memory")

MAX_REFLECTION_CHARS = 300


def _short(line: str, limit: int = 70) -> str:
    line = " ".join(line.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def change_summary(old: str, new: str) -> str:
    """The first changed lines of a diff, as `old` -> `new` (plain enough for a prompt)."""
    a, b = old.splitlines(), new.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        removed = next((ln for ln in a[i1:i2] if ln.strip()), "")
        added = next((ln for ln in b[j1:j2] if ln.strip()), "")
        if removed and added:
            return f"`{_short(removed)}` -> `{_short(added)}`"
        if added:
            return f"added `{_short(added)}`"
        if removed:
            return f"removed `{_short(removed)}`"
    return "no visible change"


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_REFLECTION_CHARS else text[: MAX_REFLECTION_CHARS - 1] + "…"


def reflection_from_diff(
    outcome: str, proposal: Proposal, reason: str | None, final: str | None
) -> str:
    """A lesson built from what changed and what the user said."""
    where = f"{proposal.task} on {proposal.path}"
    said = f' because "{reason.strip()}"' if reason and reason.strip() else ""
    if outcome == "rejected":
        what = change_summary(proposal.original, proposal.proposed)
        return _clip(f"The user rejected a {where} that changed {what}{said}.")
    if outcome in {"corrected", "rewritten"} and final is not None:
        what = change_summary(proposal.proposed, final)
        verb = "corrected" if outcome == "corrected" else "rejected and rewrote"
        return _clip(f"The user {verb} a {where}: {what}{said}. Propose what they wrote.")
    return _clip(f"The user {outcome} a {where}{said}.")


async def reflection_by_teacher(
    generate: Generate,
    outcome: str,
    proposal: Proposal,
    reason: str | None,
    final: str | None,
    redact_patterns: tuple[str, ...] = (),
) -> str | None:
    """The teacher's one-line lesson, or None when it cannot give one."""
    from tether.core.diff import unified
    from tether.core.redaction import Redactor, redact_messages

    parts = [
        f"An assistant proposed a {proposal.task} edit to {proposal.path}; the user {outcome} it.",
        "The proposal as a diff:",
        unified(proposal.original, proposal.proposed, proposal.path) or "(no change)",
    ]
    if final is not None:
        parts += [
            "What the user kept instead, as a diff from the proposal:",
            unified(proposal.proposed, final, proposal.path),
        ]
    if reason:
        parts.append(f"The user's reason: {reason}")
    messages = [
        {
            "role": "system",
            "content": (
                "You turn a user's decision about a code edit into one short lesson (one sentence, "
                "imperative, general enough to apply to similar code) for the assistant."
            ),
        },
        {"role": "user", "content": "\n".join(parts)},
    ]
    redactor = Redactor(redact_patterns)
    try:
        answer = await generate(redact_messages(messages, redactor), 96)
    except Exception as exc:  # the diff-built lesson is the fallback
        log.warning("teacher could not reflect (%s); building the lesson from the diff", exc)
        return None
    text = redactor.restore(answer)
    for line in text.splitlines():
        line = line.strip().lstrip("-*• ").strip()
        if line:
            return _clip(line)
    return None
