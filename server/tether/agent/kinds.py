"""The kind of a change the model wrote on its own: docstring, type-hints or rewrite.

Tool candidates carry their rule code as their kind; a whole-selection answer has none,
so its kind is read off the change itself, from the syntax trees: only docstrings and
comments changed, only annotations changed, or something else. The profile can then tell
a user who takes every docstring from one who takes no rewrite.
"""

from __future__ import annotations

import ast
import textwrap

from tether.agent.parsing import changes_code

DOCSTRING = "docstring"
TYPE_HINTS = "type-hints"
REWRITE = "rewrite"
ASK = "ask"


def _tree(code: str) -> ast.Module | None:
    try:
        return ast.parse(textwrap.dedent(code))
    except (SyntaxError, ValueError):
        return None


def _unannotated(tree: ast.Module) -> str:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            node.returns = None
        elif isinstance(node, ast.arg):
            node.annotation = None
    return ast.dump(tree)


def kind_of(original: str, proposed: str, *, free_form: bool = False) -> str:
    """The kind of a model's whole-selection edit."""
    if free_form:
        return ASK
    before, after = _tree(original), _tree(proposed)
    if before is None or after is None:
        return REWRITE
    if not changes_code(original, proposed):
        return DOCSTRING
    if _unannotated(before) == _unannotated(after):
        return TYPE_HINTS
    return REWRITE
