"""Where a Python file's definitions are, and whether a selection already holds one.

The lines a def or class covers, decorators included, decide two things: what a bare
cursor asks about (`lsp.scope`: the innermost function around it), and the advice after a
failure. "Select the whole function and try again" is the advice when the model's answer
reached past a partial selection; when the selection already is a whole function (the
demo's requests, an editor's "select enclosing function"), that advice sends the user in
a circle, and the message says what else to do.
"""

from __future__ import annotations

import ast

from tether.core.types import Range

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def definition_spans(text: str, *, classes: bool = True) -> list[tuple[int, int]] | None:
    """0-based (first, last) lines of every def (and class), decorators included; None when
    the text does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    kinds = (*_FUNCTIONS, ast.ClassDef) if classes else _FUNCTIONS
    return [
        (
            min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1,
            (node.end_lineno or node.lineno) - 1,
        )
        for node in ast.walk(tree)
        if isinstance(node, kinds)
    ]


def selects_whole_definition(text: str, rng: Range) -> bool:
    """True when a def or class (with its decorators) lies wholly inside the range's lines."""
    first, last = rng.start.line, rng.end.line
    return any(first <= start and end <= last for start, end in definition_spans(text) or ())
