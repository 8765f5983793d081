"""UTF-16 aware text addressing, shared by the agent, the store and the LSP layer.

LSP counts characters in UTF-16 code units; Python strings index code points. Every
conversion between the two lives here so that no module hand-rolls it differently.
"""

from __future__ import annotations

from tether.core.types import Position, Range


class RangeError(ValueError):
    """A position or range that does not exist in the document."""


def utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def _utf16_to_cp(line: str, character: int) -> int:
    units = 0
    for i, ch in enumerate(line):
        if units >= character:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    if units >= character:
        return len(line)
    raise RangeError(f"character {character} is past the end of the line ({units} UTF-16 units)")


def split_lines(text: str) -> list[str]:
    """Lines without their terminators; a trailing newline yields a final empty line."""
    return text.split("\n")


def offset_at(text: str, pos: Position) -> int:
    """String offset of an LSP position; raises RangeError when it is outside the text."""
    lines = split_lines(text)
    if pos.line >= len(lines):
        raise RangeError(f"line {pos.line} is past the end of the document ({len(lines)} lines)")
    base = sum(len(lines[i]) + 1 for i in range(pos.line))
    line = lines[pos.line].removesuffix("\r")
    return base + _utf16_to_cp(line, pos.character)


def position_at(text: str, offset: int) -> Position:
    if offset < 0 or offset > len(text):
        raise RangeError(f"offset {offset} is outside the document")
    before = text[:offset]
    line = before.count("\n")
    col_text = before[before.rfind("\n") + 1 :]
    return Position(line=line, character=utf16_len(col_text))


def check_range(text: str, rng: Range) -> tuple[int, int]:
    start = offset_at(text, rng.start)
    end = offset_at(text, rng.end)
    if end < start:
        raise RangeError("range ends before it starts")
    return start, end


def replace_range(text: str, rng: Range, new_text: str) -> str:
    start, end = check_range(text, rng)
    return text[:start] + new_text + text[end:]


def full_lines(text: str, rng: Range) -> Range:
    """Widen a range to whole lines (models rewrite lines, not fragments)."""
    lines = split_lines(text)
    end_line = rng.end.line
    if rng.end.character == 0 and end_line > rng.start.line:
        end_line -= 1
    end_line = min(end_line, len(lines) - 1)
    return Range.of(rng.start.line, 0, end_line, utf16_len(lines[end_line]))
