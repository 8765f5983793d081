"""What changed between a proposal's original and proposed text, read from their syntax trees.

Personas judge by content, not by the task's name, so a persona that likes f-strings
rejects an edit that removes them whatever the task was called. Proposals cover whole
lines of a function (often an indented method), so fragments are parsed inside an
`if 1:` block, which accepts any consistent indentation.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

DocStyle = Literal["google", "sphinx", "numpy", "plain"]

_SECTION = re.compile(
    r"^\s*(Args|Arguments|Returns|Yields|Raises|Attributes|Example|Examples|"
    r"Note|Notes):\s*$",
    re.MULTILINE,
)
_SPHINX = re.compile(r"^\s*:(param|type|returns?|rtype|raises?)\b", re.MULTILINE)
_NUMPY = re.compile(r"^\s*(Parameters|Returns|Raises)\s*\n\s*-{3,}\s*$", re.MULTILINE)


def parse_fragment(text: str) -> ast.Module | None:
    """Parse whole lines cut out of a file (any indentation); None when it is not Python."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        if first[: len(first) - len(first.lstrip())]:
            wrapper = ast.parse("if 1:\n" + text)
            inner = wrapper.body[0]
            assert isinstance(inner, ast.If)
            return ast.Module(body=inner.body, type_ignores=[])
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


def docstring_style(doc: str) -> DocStyle:
    if _SPHINX.search(doc):
        return "sphinx"
    if _NUMPY.search(doc):
        return "numpy"
    if _SECTION.search(doc):
        return "google"
    return "plain"


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def call_signature(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """How callers see a function: its name and parameters, without annotations."""
    args = ast.parse(f"def _({ast.unparse(fn.args)}): pass").body[0].args  # type: ignore[attr-defined]
    for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
        if a is not None:
            a.annotation = None
    return f"{fn.name}({ast.unparse(args)})"


def _params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    a = fn.args
    names = [x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs]]
    if a.vararg:
        names.append(a.vararg.arg)
    if a.kwarg:
        names.append(a.kwarg.arg)
    return [n for n in names if n not in ("self", "cls")]


def _returns_value(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    stack: list[ast.AST] = list(fn.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return) and node.value is not None:
            return True
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return False


def _is_os_path_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Attribute)
        and node.func.value.attr == "path"
        and isinstance(node.func.value.value, ast.Name)
        and node.func.value.value.id == "os"
    )


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _is_type_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "type"
        and len(node.args) == 1
    )


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    """The tree without docstrings, to tell a docstring-only edit from any other."""
    tree = ast.parse(ast.unparse(tree))  # a private copy
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
    return tree


@dataclass
class Features:
    """Counts of the constructs personas care about, in one fragment."""

    fstrings: int = 0
    percent_formats: int = 0
    format_calls: int = 0
    eq_none: int = 0
    is_none: int = 0
    unidiomatic_compares: int = 0  # == None, type(x) == T, not x in y (pycodestyle E711-E721)
    os_path_calls: int = 0
    path_uses: int = 0
    annotations: int = 0
    functions: int = 0
    public_signatures: Counter[str] = field(default_factory=Counter)
    test_functions: int = 0
    docstrings: dict[str, str] = field(default_factory=dict)  # function name -> docstring
    params: dict[str, list[str]] = field(default_factory=dict)
    returns_value: dict[str, bool] = field(default_factory=dict)


def features(tree: ast.AST) -> Features:
    f = Features()
    spec_ids = {
        id(n.format_spec)
        for n in ast.walk(tree)
        if isinstance(n, ast.FormattedValue) and n.format_spec is not None
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and id(node) not in spec_ids:
            f.fstrings += 1
        elif (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Mod)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.left.value, str)
        ):
            f.percent_formats += 1
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
            and isinstance(node.func.value, ast.Constant)
        ):
            f.format_calls += 1
        elif isinstance(node, ast.Compare) and len(node.ops) == 1:
            none_side = _is_none(node.comparators[0]) or _is_none(node.left)
            equality = isinstance(node.ops[0], ast.Eq | ast.NotEq)
            if none_side and equality:
                f.eq_none += 1
                f.unidiomatic_compares += 1
            elif none_side and isinstance(node.ops[0], ast.Is | ast.IsNot):
                f.is_none += 1
            elif equality and _is_type_call(node.left):
                f.unidiomatic_compares += 1
        elif (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.Not)
            and isinstance(node.operand, ast.Compare)
            and len(node.operand.ops) == 1
            and isinstance(node.operand.ops[0], ast.Is | ast.In)
        ):
            f.unidiomatic_compares += 1
        elif _is_os_path_call(node):
            f.os_path_calls += 1
        elif isinstance(node, ast.Name) and node.id in ("Path", "PurePath"):
            f.path_uses += 1
        elif isinstance(node, ast.arg) and node.annotation is not None:
            f.annotations += 1
    for fn in _functions(tree):
        f.functions += 1
        if fn.returns is not None:
            f.annotations += 1
        if fn.name.startswith("test"):
            f.test_functions += 1
        if not fn.name.startswith("_"):
            f.public_signatures[call_signature(fn)] += 1
        doc = ast.get_docstring(fn, clean=True)
        if doc is not None:
            f.docstrings[fn.name] = doc
        f.params[fn.name] = _params(fn)
        f.returns_value[fn.name] = _returns_value(fn)
    return f


@dataclass
class Change:
    """Original and proposed fragments, parsed and compared once."""

    original: str
    proposed: str
    before: Features
    after: Features | None  # None: the proposal does not parse
    docstring_only: bool
    lines_changed: int
    touched_names: set[str]

    @property
    def parses(self) -> bool:
        return self.after is not None

    def delta(self, name: str) -> int:
        assert self.after is not None
        return int(getattr(self.after, name)) - int(getattr(self.before, name))

    @property
    def signature_changed(self) -> bool:
        after = self.after
        return after is not None and after.public_signatures != self.before.public_signatures

    def new_or_changed_docstrings(self) -> dict[str, str]:
        assert self.after is not None
        return {
            name: doc
            for name, doc in self.after.docstrings.items()
            if self.before.docstrings.get(name) != doc
        }


def lines_changed(original: str, proposed: str) -> int:
    """Lines added plus lines removed, as a reviewer counts them in a diff."""
    diff = difflib.ndiff(original.splitlines(), proposed.splitlines())
    return sum(1 for line in diff if line[:1] in "+-" and line[:2] != "? ")


def compare(original: str, proposed: str) -> Change:
    before_tree = parse_fragment(original)
    after_tree = parse_fragment(proposed)
    before = features(before_tree) if before_tree is not None else Features()
    after = features(after_tree) if after_tree is not None else None
    docstring_only = False
    touched: set[str] = set()
    if before_tree is not None and after_tree is not None:
        docstring_only = ast.dump(_strip_docstrings(before_tree)) == ast.dump(
            _strip_docstrings(after_tree)
        )
        names_before = {fn.name for fn in _functions(before_tree)}
        names_after = {fn.name for fn in _functions(after_tree)}
        touched = names_before ^ names_after or names_before
    return Change(
        original,
        proposed,
        before,
        after,
        docstring_only,
        lines_changed(original, proposed),
        touched,
    )


def mood(proposal_text: str, salt: str) -> float:
    """A stable number in [0, 1) per proposal: a persona's deterministic 'bad day'."""
    digest = hashlib.sha256(f"{salt}\n{proposal_text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
