"""Following a span of a document through the edits made to it.

After an accept, the accepted text is watched for the user rewriting it (a correction, the
strongest training signal); after a reject, the original text is watched for the user writing
their own version. Editors report edits as ranges of the text before the edit, often wider
than what really changed (whole lines); trimming each edit to the characters that differ
keeps an edit next to a span from counting as an edit of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tether.core.text import check_range
from tether.core.types import Range


@dataclass(frozen=True)
class Edit:
    """Characters [start, end) of the old text replaced by `new_len` characters."""

    start: int
    end: int
    new_len: int
    inserted: str = ""  # the new text itself

    @property
    def delta(self) -> int:
        return self.new_len - (self.end - self.start)


def trimmed_edit(old: str, start: int, end: int, new_text: str) -> Edit | None:
    """The edit `old[start:end] -> new_text`, shrunk to what differs; None when nothing does."""
    removed = old[start:end]
    limit = min(len(removed), len(new_text))
    prefix = 0
    while prefix < limit and removed[prefix] == new_text[prefix]:
        prefix += 1
    suffix = 0
    while (
        suffix < limit - prefix
        and removed[len(removed) - 1 - suffix] == new_text[len(new_text) - 1 - suffix]
    ):
        suffix += 1
    if prefix == len(removed) == len(new_text):
        return None
    inserted = new_text[prefix : len(new_text) - suffix]
    return Edit(start + prefix, end - suffix, len(inserted), inserted)


def whole_text_edit(old: str, new: str) -> Edit | None:
    """A full-document replacement seen as the smallest edit that explains it."""
    return trimmed_edit(old, 0, len(old), new)


def edit_of(old: str, rng: Range | None, text: str) -> Edit | None:
    """The edit an editor's change makes: `rng` of `old` (None: all of it) becomes `text`.

    Raises `text.RangeError` when the range is not in `old`.
    """
    if rng is None:
        return whole_text_edit(old, text)
    start, end = check_range(old, rng)
    return trimmed_edit(old, start, end, text)


def apply_change(old: str, rng: Range | None, text: str) -> tuple[Edit | None, str]:
    """`edit_of` and the text after the change."""
    if rng is None:
        return whole_text_edit(old, text), text
    start, end = check_range(old, rng)
    return trimmed_edit(old, start, end, text), old[:start] + text + old[end:]


@dataclass
class Span:
    """Code-point offsets of a watched span; `touched` once an edit reached into it.

    An edit that ends right where the span starts, or starts right where it ends, counts
    as touching it (typing at either edge of the accepted code extends it), except across
    a line break: whole lines inserted above a span that starts a line, or text typed on
    the line after a span that ends with its newline, are not part of it.
    """

    start: int
    end: int
    touched: bool = False
    start_at_line_start: bool = False
    end_at_line_start: bool = False

    def apply(self, edit: Edit) -> None:
        lines_above = (
            edit.end == self.start
            and edit.start == edit.end
            and self.start_at_line_start
            and edit.inserted.endswith("\n")
        )
        if edit.end < self.start or lines_above:
            self.start += edit.delta
            self.end += edit.delta
            return
        if edit.start > self.end or (
            edit.start == self.end and self.end_at_line_start and self.end > self.start
        ):
            return
        self.touched = True
        self.start = min(self.start, edit.start)
        self.end = max(self.end, edit.end) + edit.delta

    def text(self, document: str) -> str:
        return document[self.start : self.end]
