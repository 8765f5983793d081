"""Following a watched span through edits (tether.core.tracking)."""

from __future__ import annotations

from tether.core.tracking import Edit, Span, trimmed_edit, whole_text_edit

TEXT = "a = 1\nb = 2\nc = 3\n"  # the span watches "b = 2" (offsets 6..11)


def _apply(text: str, start: int, end: int, new: str, span: Span) -> str:
    edit = trimmed_edit(text, start, end, new)
    if edit is not None:
        span.apply(edit)
    return text[:start] + new + text[end:]


def test_edits_before_shift_and_after_leave_alone() -> None:
    span = Span(6, 11, start_at_line_start=True)
    text = _apply(TEXT, 0, 1, "alpha", span)  # before: shifts by 4
    assert (span.start, span.end, span.touched) == (10, 15, False)
    text = _apply(text, 21, 22, "30", span)  # after
    assert span.text(text) == "b = 2" and not span.touched


def test_an_edit_inside_or_at_an_edge_touches() -> None:
    span = Span(6, 11)
    text = _apply(TEXT, 10, 11, "20", span)
    assert span.touched and span.text(text) == "b = 20"
    span = Span(6, 11)
    text = _apply(TEXT, 11, 11, "  # two", span)  # typing at the end of the line
    assert span.touched and span.text(text) == "b = 2  # two"


def test_lines_inserted_above_a_line_start_do_not_touch() -> None:
    span = Span(6, 11, start_at_line_start=True)
    text = _apply(TEXT, 6, 6, "# note\n", span)
    assert not span.touched and span.text(text) == "b = 2"
    span = Span(6, 11, start_at_line_start=True)
    text = _apply(TEXT, 6, 6, "async ", span)  # typed at the start of the line: inside
    assert span.touched and span.text(text) == "async b = 2"


def test_typing_on_the_line_after_a_span_ending_in_newline() -> None:
    span = Span(6, 12, end_at_line_start=True)  # "b = 2\n"
    text = _apply(TEXT, 12, 12, "# c\n", span)
    assert not span.touched and span.text(text) == "b = 2\n"


def test_wide_edits_are_trimmed_to_what_changed() -> None:
    # an editor reporting the whole line 'c = 3' as replaced by 'c = 4'
    edit = trimmed_edit(TEXT, 12, 17, "c = 4")
    assert edit == Edit(16, 17, 1, "4")
    # a no-op change
    assert trimmed_edit(TEXT, 0, 5, "a = 1") is None
    # full-document sync: the smallest edit that explains it
    assert whole_text_edit(TEXT, TEXT.replace("b = 2", "b = 22")) == Edit(11, 11, 1, "2")
    span = Span(6, 11)
    span.apply(whole_text_edit(TEXT, "x\n" + TEXT))  # type: ignore[arg-type]
    assert (span.start, span.end, span.touched) == (8, 13, False)
