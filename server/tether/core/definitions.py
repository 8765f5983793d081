"""Whether a selection already holds whole definitions.

"Select the whole function and try again" is the advice when the model's answer reached
past a partial selection. When the selection already is a whole function (the demo's
requests, an editor's "select enclosing function"), that advice sends the user in a circle;
the message then says what else to do.
"""

from __future__ import annotations

import ast

from tether.core.types import Range


def selects_whole_definition(text: str, rng: Range) -> bool:
    """True when a def or class (with its decorators) lies wholly inside the range's lines."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    first, last = rng.start.line, rng.end.line
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
        end = (node.end_lineno or node.lineno) - 1
        if first <= start and end <= last:
            return True
    return False
