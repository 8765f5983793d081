"""Turning raw model output into a replacement for the selected lines, or a reason why not.

Small models wander: they answer in prose, repeat the surrounding code, stop mid-block, or
return the input unchanged. Each of those must give no proposal and a reason the user (and
the benchmarks) can read, never a half-applied edit; so the parser accepts exactly one
closed fenced block (the format of `tether.core.response_format`) and checks the result
before anything is built from it.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass

from tether.core.response_format import FENCE

_OPEN = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.\-]*)[^\n]*$", re.M)


@dataclass(frozen=True)
class Parsed:
    """A usable answer: the replacement text and the rationale written before it."""

    text: str
    rationale: str


@dataclass(frozen=True)
class ParseFailure:
    """Why an answer could not be used."""

    reason: str


def _blocks(output: str) -> tuple[list[str], bool, str]:
    """(closed block bodies, whether a block was left open, text before the first fence)."""
    bodies: list[str] = []
    pos = 0
    before = output
    first = True
    while True:
        m = _OPEN.search(output, pos)
        if m is None:
            return bodies, False, before
        if first:
            before, first = output[: m.start()], False
        fence = m.group(1)
        close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.M)
        body_start = m.end() + 1
        c = close.search(output, body_start) if body_start <= len(output) else None
        if c is None:
            return bodies, True, before
        bodies.append(output[body_start : c.start()])
        pos = c.end()


def _first_paragraph(text: str) -> str:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return " ".join(paragraphs[0].split()) if paragraphs else ""


def _indent_of(lines: list[str]) -> str:
    widths = [ln[: len(ln) - len(ln.lstrip())] for ln in lines if ln.strip()]
    return min(widths, key=len) if widths else ""


def _reindent(code: str, original: str) -> str:
    """Models often drop the indentation of a nested range; put the original's back."""
    want = _indent_of(original.splitlines())
    have = _indent_of(code.splitlines())
    if len(have) >= len(want):
        return code
    body = textwrap.dedent(code)
    return "\n".join((want + ln) if ln.strip() else ln for ln in body.split("\n"))


def _norm(s: str) -> str:
    return "\n".join(ln.rstrip() for ln in s.strip("\n").splitlines())


_HEADER = re.compile(r"^(?:async\s+)?(?:def|class)\s")


def _trim_echo(code: str, original: str, before: str, after: str) -> str:
    """Drop context lines the model copied around its answer, when that is all they are.

    Small models often start their answer with the line above the selection, or end it
    with the line below. Those exact lines (in order, adjacent to the selection) are not
    part of the edit; what remains is still checked like any answer.
    """
    lines = code.split("\n")
    above = [ln.strip() for ln in before.split("\n") if ln.strip()]
    below = [ln.strip() for ln in after.split("\n") if ln.strip()]
    first_orig = next((ln.strip() for ln in original.split("\n") if ln.strip()), None)
    n = 0
    while (
        n < len(lines) - 1
        and above
        and lines[n].strip()
        and lines[n].strip() != first_orig
        and lines[n].strip() in above
    ):
        n += 1
    # only a run that ends exactly where the selection starts is an echo
    if n and [ln.strip() for ln in lines[:n]] != above[-n:]:
        n = 0
    m = 0
    last_orig = next((ln.strip() for ln in reversed(original.split("\n")) if ln.strip()), None)
    while (
        m < len(lines) - n - 1
        and below
        and lines[-1 - m].strip()
        and lines[-1 - m].strip() != last_orig
        and lines[-1 - m].strip() in below
    ):
        m += 1
    if m and [ln.strip() for ln in lines[len(lines) - m :]] != below[:m]:
        m = 0
    kept = lines[n : len(lines) - m if m else None]
    return "\n".join(kept) if any(ln.strip() for ln in kept) else code


def _repeats_context(code: str, original: str, before: str, after: str) -> bool:
    """Whether the block copies code from outside the selection.

    Small models often echo the code shown around the selection; applying that would
    duplicate it. Lines that also occur in the selection, and short lines (`return`,
    `else:`), prove nothing and are not counted; a copied def/class header is enough.
    """
    inside = {ln.strip() for ln in original.splitlines()}
    outside = {
        ln.strip() for ln in (before + "\n" + after).splitlines() if len(ln.strip()) >= 8
    } - inside
    lines = [ln.strip() for ln in code.splitlines() if ln.strip()]
    copied = [ln for ln in lines if ln in outside]
    if any(_HEADER.match(ln) for ln in copied):
        return True
    return len(copied) >= 2 and len(copied) * 2 >= len(lines)


_DEFINES = re.compile(r"^[ \t]*(?:async\s+)?(?:def|class)\s+(\w+)", re.M)


def invents_definition(original: str, proposed: str) -> bool:
    """Statements answered with a new function or class: small models do this instead of
    editing; a real "extract function" keeps the statements' call site, this does not."""
    before = set(_DEFINES.findall(original))
    after = set(_DEFINES.findall(proposed))
    return not before and bool(after)


def _without_docs(code: str) -> str | None:
    """The code's AST with docstrings removed (comments are not in it), or None."""
    try:
        tree = ast.parse(textwrap.dedent(code))
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
    return ast.dump(tree)


def changes_code(original: str, proposed: str) -> bool:
    """Whether a Python edit changes more than docstrings and comments (None: cannot tell)."""
    a, b = _without_docs(original), _without_docs(proposed)
    return a is not None and b is not None and a != b


def parse_completion(
    output: str,
    original: str,
    *,
    language: str = "python",
    before: str = "",
    after: str = "",
    document: str | None = None,
    doc_start: int = 0,
    doc_end: int = 0,
    keeps_code: bool = False,
) -> Parsed | ParseFailure:
    """Parse one completion for a range whose text is `original`.

    `before`/`after` are the lines shown around the selection (to spot echoed context);
    `document` with the range's offsets lets a Python edit be checked to still parse;
    `keeps_code` (documentation tasks) refuses edits that change more than docs/comments.
    """
    if not output or not output.strip():
        return ParseFailure("empty output: the model returned nothing")
    bodies, unclosed, prose = _blocks(output)
    if not bodies and unclosed:
        return ParseFailure("truncated output: the code block was never closed")
    if not bodies:
        return ParseFailure("no code block: the model answered in prose only")
    if len(bodies) > 1:
        return ParseFailure(f"{len(bodies)} code blocks: expected exactly one replacement")
    if unclosed:
        return ParseFailure("truncated output: a second code block was never closed")
    code = bodies[0]
    if code.endswith("\n"):
        code = code[:-1]
    if not code.strip():
        if original.strip():
            return ParseFailure("empty code block: the model proposed deleting the selection")
        return ParseFailure("empty code block: nothing to insert")
    code = _trim_echo(code, original, before, after)
    code = _reindent(code, original)
    if "\r\n" in original and "\r\n" not in code:
        code = code.replace("\n", "\r\n")
    if _norm(code) == _norm(original):
        return ParseFailure("unchanged: the model returned the selection as it was")
    if _repeats_context(code, original, before, after):
        return ParseFailure("out of range: the block repeats code from outside the selection")
    orig_lines = max(1, len(original.splitlines()))
    if len(code.splitlines()) > 4 * orig_lines + 20:
        return ParseFailure(
            f"out of range: {len(code.splitlines())} lines for a {orig_lines}-line selection"
        )
    if language == "python" and invents_definition(original, code):
        return ParseFailure(
            "off task: the answer replaces the selected statements with a new definition"
        )
    if keeps_code and language == "python" and changes_code(original, code):
        return ParseFailure("changes code: this task may only add documentation and comments")
    if language == "python" and document is not None:
        new_doc = document[:doc_start] + code + document[doc_end:]
        if _parses(document) and not _parses(new_doc):
            return ParseFailure("broken edit: the file would no longer parse as Python")
    return Parsed(text=code, rationale=_first_paragraph(prose))


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    return True


__all__ = ["FENCE", "ParseFailure", "Parsed", "parse_completion"]
