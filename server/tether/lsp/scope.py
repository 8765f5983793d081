"""What an empty range (a bare cursor) asks Tether to work on.

Editors send the cursor as an empty range when nothing is selected, and models answer with
whole units of code (a function, rewritten). Taken literally, the answer would replace
nothing and be inserted at the cursor, duplicating the code around it. So a cursor means
the unit it sits in: the diagnostics it was asked to fix, else the innermost Python
function (decorators included) around it, else its line.
"""

from __future__ import annotations

from collections.abc import Sequence

from tether.core.definitions import definition_spans
from tether.core.text import split_lines, utf16_len
from tether.core.types import Range


def is_empty(rng: Range) -> bool:
    return rng.start == rng.end


def widen_cursor(
    text: str, language: str, rng: Range, diagnostic_ranges: Sequence[Range] = ()
) -> Range:
    """`rng` itself when it selects something; otherwise the whole lines of what it means."""
    if not is_empty(rng):
        return rng
    lines = split_lines(text)
    line = min(rng.start.line, len(lines) - 1)
    first = last = line
    if diagnostic_ranges:
        first = min(r.start.line for r in diagnostic_ranges)
        last = max(r.end.line for r in diagnostic_ranges)
    elif language == "python":
        first, last = _enclosing_function(text, line) or (line, line)
    last = min(last, len(lines) - 1)
    return Range.of(first, 0, last, utf16_len(lines[last]))


def _enclosing_function(text: str, line: int) -> tuple[int, int] | None:
    """0-based first and last line of the innermost def around `line`; None if there is none
    or the file does not parse (then the line is all Tether can be sure of)."""
    around = [
        (start, end)
        for start, end in definition_spans(text, classes=False) or ()
        if start <= line <= end
    ]
    return min(around, key=lambda span: span[1] - span[0], default=None)
