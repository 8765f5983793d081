"""Turning a replacement into hunks, and applying a chosen subset of them.

A proposal replaces one range; the user may want only part of it. difflib's line opcodes
give the hunks; each keeps its offsets inside the original text so a subset can be applied
without re-diffing, and its document range so the editor can show and apply it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from tether.core.text import utf16_len
from tether.core.types import Hunk, Position, Range


def _advance(origin: Position, text: str) -> Position:
    """Position reached after writing `text` starting at `origin`."""
    newlines = text.count("\n")
    if newlines == 0:
        return Position(line=origin.line, character=origin.character + utf16_len(text))
    return Position(line=origin.line + newlines, character=utf16_len(text[text.rfind("\n") + 1 :]))


def make_hunks(original: str, proposed: str, origin: Position) -> list[Hunk]:
    """Line-level hunks turning `original` (which starts at `origin`) into `proposed`."""
    a = original.splitlines(keepends=True)
    b = proposed.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    starts = [0]
    for line in a:
        starts.append(starts[-1] + len(line))
    hunks: list[Hunk] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        o_start, o_end = starts[i1], starts[i2]
        old_text = original[o_start:o_end]
        new_text = "".join(b[j1:j2])
        start = _advance(origin, original[:o_start])
        end = _advance(start, old_text)
        hunks.append(
            Hunk(
                index=len(hunks),
                range=Range(start=start, end=end),
                orig_start=o_start,
                orig_end=o_end,
                old_text=old_text,
                new_text=new_text,
            )
        )
    return hunks


def apply_hunks(original: str, hunks: Iterable[Hunk]) -> str:
    """The original text with only the given hunks applied (any order, no overlaps)."""
    out: list[str] = []
    cursor = 0
    for h in sorted(hunks, key=lambda h: h.orig_start):
        if h.orig_start < cursor:
            raise ValueError(f"hunk {h.index} overlaps another")
        out.append(original[cursor : h.orig_start])
        out.append(h.new_text)
        cursor = h.orig_end
    out.append(original[cursor:])
    return "".join(out)


def unified(original: str, proposed: str, path: str = "file") -> str:
    """A unified diff for display (history rows, `tether history --diff`).

    Lines are compared without their terminators so a range that does not end in a
    newline never glues a removed line to an added one.
    """
    lines = difflib.unified_diff(
        original.splitlines(),
        proposed.splitlines(),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
        lineterm="",
    )
    return "".join(line + "\n" for line in lines)
