"""From ruff's findings to small, located edits: ruff's own fixes, and spots for the model.

An edit here is a replacement of a span of the requested range's text (offsets relative to
that text), so ruff's fixes and the model's answers for different spots combine into one
candidate as long as they do not overlap. A spot is the smallest whole statement (or the
header of a compound statement) around a finding that ruff cannot fix: one line to turn
into an f-string, one `if` to simplify, one def header to document. That is a size of
problem a 135M model can solve; a whole function is not.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tether.agent.tools.ruff import Finding

#: Rules whose fix rewrites the loop around the finding, not the line it points at.
LOOP_RULES = frozenset({"PERF401", "PERF402", "SIM110", "SIM111", "SIM113"})
#: Rules no one-statement edit can fix (the fix reaches statements after it, or renames):
#: the model is not asked, ruff's finding stays for the user to see.
NO_SPOT_RULES = frozenset({"SIM115", "B006", "B008", "E741", "E501", "C901", "PERF203"})
#: Rules whose fix is a docstring under a def/class header.
DOCSTRING_PREFIX = "D1"
#: Spots longer than this are not given to the model (it cannot rewrite them reliably).
MAX_SPOT_LINES = 12


@dataclass(frozen=True)
class Edit:
    start: int  # offsets in the range's text
    end: int
    text: str


@dataclass(frozen=True)
class Spot:
    """Lines of the range the model is asked to rewrite for one finding."""

    first: int  # zero-based document lines, inclusive
    last: int
    start: int  # offsets in the range's text
    end: int
    finding: Finding

    @property
    def rule(self) -> str:
        return self.finding.rule

    @property
    def kind(self) -> str:
        return "docstring" if self.rule.startswith(DOCSTRING_PREFIX) else self.rule


def line_starts(text: str) -> list[int]:
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits (callers drop overlaps with `disjoint`)."""
    out = text
    for e in sorted(edits, key=lambda e: e.start, reverse=True):
        out = out[: e.start] + e.text + out[e.end :]
    return out


def disjoint(edits: Iterable[Edit]) -> list[Edit]:
    """The edits in order, skipping any that overlaps one already kept."""
    kept: list[Edit] = []
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        if all(e.start >= k.end or e.end <= k.start for k in kept) or (
            e.start == e.end and all(not k.start < e.start < k.end for k in kept)
        ):
            kept.append(e)
    return kept


def edits_between(old: str, new: str) -> tuple[Edit, ...]:
    """Whole-line edits turning `old` into `new` (so they combine with a spot's edit)."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    starts = [0]
    for line in a:
        starts.append(starts[-1] + len(line))
    out: list[Edit] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag != "equal":
            out.append(Edit(starts[i1], starts[i2], "".join(b[j1:j2])))
    return tuple(out)


class RangeText:
    """The requested range inside its document: maps ruff's rows/columns to range offsets."""

    def __init__(self, document: str, start: int, end: int) -> None:
        self.document = document
        self.start = start
        self.end = end
        self.text = document[start:end]
        self._starts = line_starts(document)
        self.first_line = document.count("\n", 0, start)
        self.last_line = (
            self.first_line + self.text.count("\n") - (1 if self.text.endswith("\n") else 0)
        )

    def offset(self, row: int, column: int) -> int:
        """Range offset of a 1-based ruff row/column (may fall outside the range)."""
        row_i = min(max(row - 1, 0), len(self._starts) - 1)
        return self._starts[row_i] + column - 1 - self.start

    def line_offset(self, line: int) -> int:
        """Range offset of the start of a zero-based document line."""
        return self._starts[line] - self.start if line < len(self._starts) else len(self.text)

    def line_end(self, line: int) -> int:
        """Range offset just past a zero-based line's newline (or the range's end)."""
        return min(self.line_offset(line + 1), len(self.text))

    def inside(self, f: Finding) -> bool:
        return self.first_line <= f.line and f.end_line <= self.last_line

    def fix_edits(self, f: Finding) -> list[Edit] | None:
        """ruff's fix for a finding as range edits, or None when it reaches outside."""
        if f.fix is None:
            return None
        edits: list[Edit] = []
        for e in f.fix.edits:
            a = self.offset(e.location.row, e.location.column)
            b = self.offset(e.end_location.row, e.end_location.column)
            if a < 0 or b > len(self.text) or b < a:
                return None
            edits.append(Edit(a, b, e.content))
        return edits


def _statements(tree: ast.AST) -> Iterable[ast.stmt]:
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            yield node


def _header_end(node: ast.stmt) -> int:
    """Last 1-based line of a compound statement's header (before its body)."""
    body = getattr(node, "body", None)
    if isinstance(body, list) and body:
        first_body = body[0]
        # a docstring-less def header ends the line before its first statement (or decorator)
        return max(node.lineno, first_body.lineno - 1)
    return node.end_lineno or node.lineno


def spot_for(tree: ast.Module, rt: RangeText, f: Finding) -> Spot | None:
    """The smallest whole statement (or header) around a finding, inside the range."""
    row_a, row_b = f.line + 1, f.end_line + 1
    best: tuple[int, int] | None = None
    loop_rule = f.rule in LOOP_RULES
    for node in _statements(tree):
        start, end = node.lineno, node.end_lineno or node.lineno
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            start = min([start, *(d.lineno for d in node.decorator_list)])
        if not (start <= row_a and row_b <= end):
            continue
        compound = isinstance(getattr(node, "body", None), list)
        if f.rule.startswith(DOCSTRING_PREFIX):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            if row_b > _header_end(node):
                continue  # the finding is a method's, inside this class's body
            span = (start, _header_end(node))
        elif loop_rule:
            if not isinstance(node, ast.For | ast.AsyncFor):
                continue
            span = (start, end)
        elif compound and row_b <= _header_end(node):
            span = (start, _header_end(node))
        elif compound:
            continue  # the finding is in the body: a smaller statement holds it
        else:
            span = (start, end)
        if best is None or span[1] - span[0] < best[1] - best[0]:
            best = span
    if best is None:
        return None
    first, last = best[0] - 1, best[1] - 1
    if first < rt.first_line or last > rt.last_line or last - first + 1 > MAX_SPOT_LINES:
        return None
    return Spot(first, last, rt.line_offset(first), rt.line_end(last), f)


def spots(
    tree: ast.Module | None, rt: RangeText, findings: Sequence[Finding], limit: int
) -> list[Spot]:
    """Distinct spots for the findings ruff cannot fix, in document order, at most `limit`."""
    if tree is None or limit <= 0:
        return []
    found: list[Spot] = []
    for f in findings:
        if f.fixable or not rt.inside(f) or f.rule in NO_SPOT_RULES:
            continue
        spot = spot_for(tree, rt, f)
        if spot is None or any(s.start < spot.end and spot.start < s.end for s in found):
            continue
        found.append(spot)
        if len(found) >= limit:
            break
    return found
