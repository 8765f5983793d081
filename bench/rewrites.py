"""Deterministic proposals: small AST-located rewrites of real code (the standard library).

The learning benchmark needs thousands of realistic edits and no model. Each rewrite finds
its sites with `ast`, splices new text into exactly those spots (so the rest of the
function keeps its comments and layout, as an agent's edit would), and keeps the result
only if it still parses and differs. A proposal covers the whole lines of one function.
Everything is ordered (sorted files, seeded shuffles), so a seed gives the same stream on
every machine with the same Python.
"""

from __future__ import annotations

import ast
import hashlib
import io
import random
import re
import sysconfig
import tokenize
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.analysis import parse_fragment

Function = ast.FunctionDef | ast.AsyncFunctionDef

#: Longer functions are not proposed on (nobody reviews a 200-line replacement).
MAX_FUNCTION_LINES = 80

#: Task names, as the agent would be asked; the reverse rewrites are a bad model's edits.
TASKS: tuple[str, ...] = (
    "fstring",
    "printf-format",
    "compare-idiom",
    "eq-none",
    "pathlib",
    "docstring",
    "type-hints",
    "dead-code",
    "rename-test",
    "keyword-only",
)

#: How often each task shows up in the learning stream (a user's traffic is uneven).
DEFAULT_WEIGHTS: dict[str, float] = {
    "fstring": 0.19,
    "printf-format": 0.06,
    "compare-idiom": 0.06,
    "eq-none": 0.05,
    "pathlib": 0.08,
    "docstring": 0.22,
    "type-hints": 0.14,
    "dead-code": 0.08,
    "rename-test": 0.06,
    "keyword-only": 0.06,
}


@dataclass(frozen=True)
class Edit:
    start: int  # offsets in the file's text
    end: int
    text: str


@dataclass(frozen=True)
class Rewrite:
    """One proposal: replace whole lines [start_line, end_line) of `path` with `proposed`."""

    task: str
    path: str  # relative to the source root, POSIX
    symbol: str
    start_line: int  # zero-based, inclusive
    end_line: int  # zero-based, exclusive
    original: str
    proposed: str
    variant: str = ""  # which flavour of the rewrite (e.g. "format-call", "sphinx")


class SourceFile:
    """A parsed file with conversions from AST positions (UTF-8 columns) to text offsets."""

    def __init__(self, rel: str, text: str) -> None:
        self.rel = rel
        self.text = text
        self.tree = ast.parse(text)
        self.lines = text.splitlines(keepends=True)
        self.line_starts = [0]
        for line in self.lines:
            self.line_starts.append(self.line_starts[-1] + len(line))
        self._parents: dict[int, ast.AST] | None = None
        self._own: dict[int, list[ast.AST]] = {}
        self._functions: list[Function] = []

    @classmethod
    def read(cls, path: Path, root: Path) -> SourceFile:
        with tokenize.open(path) as f:
            return cls(path.relative_to(root).as_posix(), f.read())

    def offset(self, lineno: int, col: int) -> int:
        line = self.lines[lineno - 1]
        return self.line_starts[lineno - 1] + len(line.encode()[:col].decode(errors="replace"))

    def start(self, node: ast.AST) -> int:
        return self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> int:
        return self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]

    def source(self, node: ast.AST) -> str:
        return self.text[self.start(node) : self.end(node)]

    @property
    def parents(self) -> dict[int, ast.AST]:
        if self._parents is None:
            self._index()
        assert self._parents is not None
        return self._parents

    def _index(self) -> None:
        """One pass over the tree: each node's parent, and each function's own nodes."""
        parents: dict[int, ast.AST] = {}
        own: dict[int, list[ast.AST]] = {}
        functions: list[Function] = []
        stack: list[tuple[ast.AST, Function | None]] = [(self.tree, None)]
        while stack:
            node, owner = stack.pop()
            if isinstance(node, Function):
                functions.append(node)
                own[id(node)] = []
            for name, value in ast.iter_fields(node):
                children = value if isinstance(value, list) else [value]
                for child in children:
                    if not isinstance(child, ast.AST):
                        continue
                    parents[id(child)] = node
                    if isinstance(node, Function) and name == "body":
                        child_owner: Function | None = node
                    elif isinstance(node, ast.ClassDef | ast.Lambda):
                        child_owner = None
                    else:
                        child_owner = owner
                    if child_owner is not None:
                        own[id(child_owner)].append(child)
                    stack.append((child, child_owner))
        self._parents, self._own = parents, own
        self._functions = sorted(functions, key=lambda n: (n.lineno, n.col_offset))

    def functions(self, max_lines: int = MAX_FUNCTION_LINES) -> list[Function]:
        """Functions (methods and nested ones too) short enough to review in one proposal."""
        if self._parents is None:
            self._index()
        return [n for n in self._functions if (n.end_lineno or n.lineno) - n.lineno < max_lines]

    def own_nodes(self, fn: Function) -> list[ast.AST]:
        """Nodes of a function's body, not descending into nested functions or classes."""
        if self._parents is None:
            self._index()
        return self._own[id(fn)]

    def line_span(self, fn: Function) -> tuple[int, int]:
        first = min([fn.lineno, *(d.lineno for d in fn.decorator_list)])
        return first - 1, fn.end_lineno or fn.lineno

    def is_public(self, fn: Function) -> bool:
        """Public API: a public function of the module, or a public method of a public class."""
        if fn.name.startswith("_"):
            return False
        parent = self.parents.get(id(fn))
        if isinstance(parent, ast.Module):
            return True
        if isinstance(parent, ast.ClassDef) and not parent.name.startswith("_"):
            return isinstance(self.parents.get(id(parent)), ast.Module)
        return False


# ---------------------------------------------------------------------- helpers
def _walk_own(fn: Function) -> Iterator[ast.AST]:
    """Nodes of a function's body, not descending into nested functions or classes."""
    stack: list[ast.AST] = list(reversed(fn.body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, Function | ast.ClassDef | ast.Lambda):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _stable_choice(key: str, options: Sequence[str]) -> str:
    digest = hashlib.sha256(key.encode()).digest()
    return options[digest[0] % len(options)]


_ATOMS = (
    ast.Name,
    ast.Attribute,
    ast.Call,
    ast.Subscript,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.Set,
    ast.JoinedStr,
)


def _atom(src: SourceFile, node: ast.AST) -> str:
    text = src.source(node)
    return text if isinstance(node, _ATOMS) else f"({text})"


# ---------------------------------------------------------------------- %-format <-> f-string
_SPEC = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?(?P<flags>[-#0 +]*)(?P<width>\*|\d+)?"
    r"(?:\.(?P<prec>\*|\d+))?(?P<len>[hlL]?)(?P<conv>.)",
    re.DOTALL,
)


def _percent_pieces(fmt: str) -> list[str | tuple[str, str]] | None:
    """Split a %-format string into literal text and (conversion, spec); None if unsupported."""
    pieces: list[str | tuple[str, str]] = []
    pos = 0
    for m in _SPEC.finditer(fmt):
        pieces.append(fmt[pos : m.start()])
        pos = m.end()
        conv = m["conv"]
        if conv == "%" and not (m["key"] or m["flags"] or m["width"] or m["prec"]):
            pieces.append("%")
            continue
        if m["key"] is not None or m["flags"] or m["width"] or m["len"]:
            return None
        if conv in "sr" and not m["prec"]:
            pieces.append((conv, ""))
        elif conv in "di" and not m["prec"]:
            pieces.append(("s", "d"))
        elif conv == "f" and m["prec"] and m["prec"] != "*":
            pieces.append(("s", f".{m['prec']}f"))
        else:
            return None
    pieces.append(fmt[pos:])
    return pieces


def _percent_to_fstring(src: SourceFile, node: ast.BinOp, as_format_call: bool) -> str | None:
    left, right = node.left, node.right
    if not (isinstance(left, ast.Constant) and isinstance(left.value, str)):
        return None
    pieces = _percent_pieces(left.value)
    if pieces is None:
        return None
    values = right.elts if isinstance(right, ast.Tuple) else [right]
    if isinstance(right, ast.Dict | ast.DictComp | ast.Starred) or any(
        isinstance(v, ast.Starred) for v in values
    ):
        return None
    slots = [p for p in pieces if isinstance(p, tuple)]
    if not slots or len(slots) != len(values):
        return None
    if not isinstance(right, ast.Tuple) and not isinstance(
        right, ast.Name | ast.Attribute | ast.Call | ast.Subscript | ast.Constant
    ):
        return None
    it = iter(values)
    if as_format_call:
        template = ""
        for p in pieces:
            if isinstance(p, str):
                template += p.replace("{", "{{").replace("}", "}}")
            else:
                conv, spec = p
                template += "{" + ("!r" if conv == "r" else "") + (f":{spec}" if spec else "") + "}"
        args = ", ".join(src.source(v) for v in values)
        return f"{template!r}.format({args})"
    parts: list[ast.expr] = []
    for p in pieces:
        if isinstance(p, str):
            if p:
                parts.append(ast.Constant(p))
            continue
        conv, spec = p
        value = next(it)
        fmt_spec = ast.JoinedStr([ast.Constant(spec)]) if spec else None
        parts.append(ast.FormattedValue(value, ord("r") if conv == "r" else -1, fmt_spec))
    try:
        return ast.unparse(ast.JoinedStr(parts))
    except (ValueError, TypeError):
        return None


def rewrite_fstring(src: SourceFile, fn: Function) -> tuple[list[Edit], str] | None:
    variant = _stable_choice(
        f"{src.rel}:{fn.name}", ["fstring", "fstring", "fstring", "format-call"]
    )
    edits = []
    for node in src.own_nodes(fn):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            new = _percent_to_fstring(src, node, as_format_call=variant == "format-call")
            if new is not None:
                edits.append(Edit(src.start(node), src.end(node), new))
    return (edits, variant) if edits else None


def _fragment_source(code: str) -> tuple[SourceFile, int] | None:
    """A fragment as a SourceFile (indented ones inside `if 1:`), and the prefix length."""
    prefix = "if 1:\n" if code[:1].isspace() else ""
    try:
        return SourceFile("<fragment>", prefix + code), len(prefix)
    except (SyntaxError, ValueError):
        return None


def format_calls_to_fstrings(code: str) -> str:
    """Turn `'{}…'.format(a, …)` calls into f-strings (what the modernizer types by hand)."""
    found = _fragment_source(code)
    if found is None:
        return code
    src, skip = found
    edits = []
    for node in ast.walk(src.tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
            and isinstance(node.func.value, ast.Constant)
            and isinstance(node.func.value.value, str)
            and not node.keywords
            and not any(isinstance(a, ast.Starred) for a in node.args)
        ):
            continue
        parts: list[ast.expr] = []
        args = iter(node.args)
        ok = True
        for literal, field_name, spec, conv in _formatter_parse(node.func.value.value):
            if literal:
                parts.append(ast.Constant(literal))
            if field_name is None:
                continue
            value = next(args, None) if field_name == "" else None
            if value is None:
                ok = False
                break
            fmt = ast.JoinedStr([ast.Constant(spec)]) if spec else None
            parts.append(ast.FormattedValue(value, ord(conv) if conv else -1, fmt))
        if not ok or next(args, None) is not None:
            continue
        try:
            edits.append(Edit(src.start(node), src.end(node), ast.unparse(ast.JoinedStr(parts))))
        except (ValueError, TypeError):
            continue
    return _apply(src.text, skip, len(src.text), edits)


def replace_docstrings(code: str, docs: dict[str, str]) -> str:
    """The fragment with the docstrings of the named functions replaced by new text."""
    found = _fragment_source(code)
    if found is None:
        return code
    src, skip = found
    edits = []
    for fn in src.functions(max_lines=10**9):
        if fn.name not in docs or ast.get_docstring(fn) is None:
            continue
        node = fn.body[0]
        line = src.lines[node.lineno - 1]
        indent = line[: len(line) - len(line.lstrip())]
        start = src.line_starts[node.lineno - 1]
        end = src.line_starts[node.end_lineno or node.lineno]
        edits.append(Edit(start, end, render_docstring(docs[fn.name], indent)))
    return _apply(src.text, skip, len(src.text), _disjoint(edits))


def _formatter_parse(template: str) -> list[tuple[str, str | None, str, str | None]]:
    import string

    try:
        return list(string.Formatter().parse(template))
    except ValueError:
        return [("", "x", "", None)]  # malformed: a named field makes the caller skip it


def rewrite_printf(src: SourceFile, fn: Function) -> tuple[list[Edit], str] | None:
    """f-string -> %-format: the reverse of what a modernizer wants."""
    spec_ids = {
        id(n.format_spec)
        for n in ast.walk(fn)
        if isinstance(n, ast.FormattedValue) and n.format_spec is not None
    }
    edits = []
    for node in src.own_nodes(fn):
        if not isinstance(node, ast.JoinedStr) or id(node) in spec_ids:
            continue
        if src.source(node)[:1] not in "fF":  # implicit concatenation with plain strings
            continue
        fmt, values = "", []
        for part in node.values:
            if isinstance(part, ast.Constant):
                fmt += str(part.value).replace("%", "%%")
                continue
            assert isinstance(part, ast.FormattedValue)
            spec = ""
            if part.format_spec is not None:
                spec_parts = part.format_spec.values  # type: ignore[attr-defined]
                if len(spec_parts) != 1 or not isinstance(spec_parts[0], ast.Constant):
                    break
                spec = str(spec_parts[0].value)
                if not re.fullmatch(r"\.\d+f|d", spec):
                    break
            if part.conversion not in (-1, ord("r"), ord("s")):
                break
            conv = "r" if part.conversion == ord("r") else "s"
            fmt += "%" + (spec if spec else conv)
            values.append(part.value)
        else:
            if not values:
                continue
            args = ", ".join(ast.unparse(v) for v in values)
            args = f"({args},)" if len(values) == 1 else f"({args})"
            edits.append(Edit(src.start(node), src.end(node), f"{fmt!r} % {args}"))
    return (edits, "percent") if edits else None


# ---------------------------------------------------------------------- None comparisons
def _none_compare(
    src: SourceFile, fn: Function, ops: tuple[type, ...], make: Callable[[str, bool], str]
) -> list[Edit]:
    edits = []
    for node in src.own_nodes(fn):
        if not (
            isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ops)
        ):
            continue
        left, right = node.left, node.comparators[0]
        if isinstance(right, ast.Constant) and right.value is None:
            subject = left
        elif isinstance(left, ast.Constant) and left.value is None:
            subject = right
        else:
            continue
        negated = isinstance(node.ops[0], ast.NotEq | ast.IsNot)
        edits.append(Edit(src.start(node), src.end(node), make(_atom(src, subject), negated)))
    return edits


def _is_type_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "type"
        and len(node.args) == 1
    )


def rewrite_compare_idiom(src: SourceFile, fn: Function) -> tuple[list[Edit], str] | None:
    """pycodestyle's E711/E713/E714/E721: `is None`, `x not in y`, `type(a) is B`."""
    edits = _none_compare(
        src, fn, (ast.Eq, ast.NotEq), lambda s, neg: f"{s} is not None" if neg else f"{s} is None"
    )
    variant = "is-none" if edits else ""
    for node in src.own_nodes(fn):
        if (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and isinstance(node.ops[0], ast.Eq | ast.NotEq)
            and _is_type_call(node.left)
            and isinstance(node.comparators[0], ast.Name | ast.Attribute | ast.Call)
        ):
            op = "is not" if isinstance(node.ops[0], ast.NotEq) else "is"
            new = f"{src.source(node.left)} {op} {_atom(src, node.comparators[0])}"
            edits.append(Edit(src.start(node), src.end(node), new))
            variant = variant or "type-is"
        elif (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.Not)
            and isinstance(node.operand, ast.Compare)
            and len(node.operand.ops) == 1
            and isinstance(node.operand.ops[0], ast.Is | ast.In)
        ):
            cmp = node.operand
            op = "is not" if isinstance(cmp.ops[0], ast.Is) else "not in"
            new = f"{_atom(src, cmp.left)} {op} {_atom(src, cmp.comparators[0])}"
            edits.append(Edit(src.start(node), src.end(node), new))
            variant = variant or "not-in"
    edits = _disjoint(edits)
    return (edits, variant) if edits else None


def rewrite_eq_none(src: SourceFile, fn: Function) -> tuple[list[Edit], str] | None:
    edits = _none_compare(
        src, fn, (ast.Is, ast.IsNot), lambda s, neg: f"{s} != None" if neg else f"{s} == None"
    )
    return (edits, "eq") if edits else None


# ---------------------------------------------------------------------- os.path -> pathlib
_PATH_METHODS = {
    "exists": ".exists()",
    "isdir": ".is_dir()",
    "isfile": ".is_file()",
    "basename": ".name",
    "dirname": ".parent",
    "getsize": ".stat().st_size",
    "abspath": ".absolute()",
}


def rewrite_pathlib(src: SourceFile, fn: Function) -> tuple[list[Edit], str] | None:
    edits = []
    for node in src.own_nodes(fn):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "path"
            and isinstance(node.func.value.value, ast.Name)
            and node.func.value.value.id == "os"
            and not node.keywords
            and not any(isinstance(a, ast.Starred) for a in node.args)
        ):
            continue
        name, args = node.func.attr, node.args
        if name == "join" and len(args) >= 2:
            new = f"Path({src.source(args[0])})" + "".join(f" / {_atom(src, a)}" for a in args[1:])
        elif name in _PATH_METHODS and len(args) == 1:
            new = f"Path({src.source(args[0])}){_PATH_METHODS[name]}"
        else:
            continue
        edits.append(Edit(src.start(node), src.end(node), new))
    return (edits, "pathlib") if edits else None


# ---------------------------------------------------------------------- docstrings
def _words(name: str) -> str:
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name.strip("_")).replace("_", " ").split()
    return " ".join(words).lower() or name


def _param_names(fn: Function) -> list[str]:
    a = fn.args
    names = [x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs]]
    if a.vararg:
        names.append("*" + a.vararg.arg)
    if a.kwarg:
        names.append("**" + a.kwarg.arg)
    return [n for n in names if n not in ("self", "cls")]


def _returns_value(fn: Function, nodes: Sequence[ast.AST] | None = None) -> bool:
    own = nodes if nodes is not None else list(_walk_own(fn))
    return any(isinstance(n, ast.Return) and n.value is not None for n in own)


def make_docstring(fn: Function, style: str) -> str:
    """A docstring for `fn` in the given style (without indentation or quotes)."""
    summary = f"{_words(fn.name).capitalize()}."
    params = _param_names(fn)
    returns = _returns_value(fn)
    if style == "plain" or (not params and not returns):
        return summary
    lines = [summary, ""]
    if style == "google":
        if params:
            lines.append("Args:")
            lines += [f"    {p.lstrip('*')}: The {_words(p.lstrip('*'))}." for p in params]
        if returns:
            if params:
                lines.append("")
            lines += ["Returns:", f"    The {_words(fn.name)} result."]
    else:  # sphinx
        lines += [f":param {p.lstrip('*')}: The {_words(p.lstrip('*'))}." for p in params]
        if returns:
            lines.append(f":returns: The {_words(fn.name)} result.")
    return "\n".join(lines)


def render_docstring(doc: str, indent: str) -> str:
    body = doc.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines = body.split("\n")
    if len(lines) == 1:
        return f'{indent}"""{lines[0]}"""\n'
    inner = "\n".join((indent + line) if line else "" for line in lines[1:])
    return f'{indent}"""{lines[0]}\n{inner}\n{indent}"""\n'


def rewrite_docstring(src: SourceFile, fn: Function) -> tuple[list[Edit], str] | None:
    if ast.get_docstring(fn) is not None or (
        len(fn.body) == 1 and isinstance(fn.body[0], ast.Pass)
    ):
        return None
    first = fn.body[0]
    colon = _header_colon(src, fn)
    if (
        colon is None
        or src.start(first) < src.line_starts[first.lineno - 1]
        or (colon >= src.line_starts[first.lineno - 1])
    ):
        return None  # the body shares a line with the header
    line = src.lines[first.lineno - 1]
    indent = line[: len(line) - len(line.lstrip())]
    if not indent:
        return None
    style = _stable_choice(f"{src.rel}:{fn.name}:doc", ["google", "google", "sphinx", "plain"])
    at = src.line_starts[first.lineno - 1]
    return [Edit(at, at, render_docstring(make_docstring(fn, style), indent))], style


# ---------------------------------------------------------------------- type hints
_LITERAL_TYPES = {bool: "bool", int: "int", float: "float", str: "str", bytes: "bytes"}


def _literal_type(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    if isinstance(node, ast.Constant):
        return _LITERAL_TYPES.get(type(node.value))
    return None


def _header_colon(src: SourceFile, fn: Function) -> int | None:
    """Offset of the ':' that ends a def header (found with the tokenizer, not guessed)."""
    start = src.offset(fn.lineno, fn.col_offset)
    end = src.start(fn.body[0])
    header = src.text[start:end]
    depth = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(header).readline):
            if tok.type == tokenize.OP:
                if tok.string in "([{":
                    depth += 1
                elif tok.string in ")]}":
                    depth -= 1
                elif tok.string == ":" and depth == 0:
                    row, col = tok.start
                    prefix = "".join(header.splitlines(keepends=True)[: row - 1])
                    return start + len(prefix) + col
    except (tokenize.TokenError, IndentationError):
        return None
    return None


def rewrite_type_hints(src: SourceFile, fn: Function) -> tuple[list[Edit], str] | None:
    a = fn.args
    every = [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]
    if fn.returns is not None or any(x is not None and x.annotation is not None for x in every):
        return None
    edits: list[Edit] = []
    positional = [*a.posonlyargs, *a.args]
    pairs = list(zip(positional[len(positional) - len(a.defaults) :], a.defaults, strict=True))
    pairs += [(arg, d) for arg, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d is not None]
    for arg, default in pairs:
        kind = _literal_type(default)
        if kind is None:
            continue
        between = src.text[src.end(arg) : src.start(default)]
        if between.strip() != "=":
            continue
        edits.append(Edit(src.end(arg), src.start(default), f": {kind} = "))
    own = src.own_nodes(fn)
    yields = any(isinstance(n, ast.Yield | ast.YieldFrom | ast.Await) for n in own)
    if not _returns_value(fn, own) and not yields:
        colon = _header_colon(src, fn)
        if colon is not None:
            edits.append(Edit(colon, colon, " -> None"))
    return (edits, "annotations") if edits else None


# ---------------------------------------------------------------------- dead code
_TERMINATORS = (ast.Return, ast.Raise, ast.Continue, ast.Break)


def _own_lines(src: SourceFile, stmt: ast.stmt, prev: ast.AST | None) -> bool:
    """True when the statement's lines hold nothing else (no `a; b`, no shared lines)."""
    line = src.lines[stmt.lineno - 1]
    if line[: len(line) - len(line.lstrip())] != line[: stmt.col_offset]:
        return False
    return prev is None or (prev.end_lineno or 0) < stmt.lineno  # type: ignore[attr-defined]


def _bodies(src: SourceFile, fn: Function) -> Iterator[list[ast.stmt]]:
    yield fn.body
    for node in src.own_nodes(fn):
        if not isinstance(node, ast.stmt | ast.ExceptHandler):
            continue
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield block
        if isinstance(node, ast.Try):
            for handler in node.handlers:
                yield handler.body


def rewrite_dead_code(src: SourceFile, fn: Function) -> tuple[list[Edit], str] | None:
    edits: list[Edit] = []
    variant = ""
    for block in _bodies(src, fn):
        for i, stmt in enumerate(block[:-1]):
            if (
                isinstance(stmt, _TERMINATORS)
                and _own_lines(src, block[i + 1], stmt)
                and not any(
                    isinstance(n, ast.Yield | ast.YieldFrom | ast.Await)
                    for dead in block[i + 1 :]
                    for n in ast.walk(dead)
                )
            ):
                first, last = block[i + 1], block[-1]
                edits.append(
                    Edit(
                        src.line_starts[first.lineno - 1],
                        src.line_starts[last.end_lineno or last.lineno],
                        "",
                    )
                )
                variant = "unreachable"
                break
        else:
            passes = [s for s in block if isinstance(s, ast.Pass)]
            if passes and len(block) > 1:
                stmt = passes[0]
                j = block.index(stmt)
                if (
                    _own_lines(src, stmt, block[j - 1] if j else None)
                    and src.lines[stmt.lineno - 1].strip() == "pass"
                ):
                    edits.append(
                        Edit(src.line_starts[stmt.lineno - 1], src.line_starts[stmt.lineno], "")
                    )
                    variant = variant or "redundant-pass"
    last = fn.body[-1]
    if (
        len(fn.body) > 1
        and isinstance(last, ast.Return)
        and (
            last.value is None
            or (isinstance(last.value, ast.Constant) and last.value.value is None)
        )
        and not _returns_value(fn, src.own_nodes(fn))
        and src.lines[last.lineno - 1].strip() in ("return", "return None")
        and _own_lines(src, last, fn.body[-2])
    ):
        edits.append(Edit(src.line_starts[last.lineno - 1], src.line_starts[last.lineno], ""))
        variant = variant or "trailing-return"
    edits = _disjoint(edits)
    return (edits, variant) if edits else None


def _is_none_constant(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _disjoint(edits: list[Edit]) -> list[Edit]:
    out: list[Edit] = []
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        if out and e.start < out[-1].end:
            continue
        out.append(e)
    return out


# ---------------------------------------------------------------------- tests and signatures
def snake_case(name: str) -> str:
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def is_test_path(rel: str) -> bool:
    parts = rel.split("/")
    return any(p in ("test", "tests") for p in parts[:-1]) or parts[-1].startswith("test_")


def rewrite_rename_test(src: SourceFile, fn: Function) -> tuple[list[Edit], str] | None:
    if not (is_test_path(src.rel) and re.fullmatch(r"test[A-Z]\w*", fn.name)):
        return None
    new = snake_case(fn.name)
    line_start = src.offset(fn.lineno, fn.col_offset)
    header = src.text[line_start : line_start + 200]
    m = re.match(r"(async\s+)?def\s+", header)
    if not m or not header[m.end() :].startswith(fn.name):
        return None
    at = line_start + m.end()
    return [Edit(at, at + len(fn.name), new)], "snake-case"


def rewrite_keyword_only(src: SourceFile, fn: Function) -> tuple[list[Edit], str] | None:
    a = fn.args
    if not src.is_public(fn) or a.vararg or a.kwonlyargs or not a.defaults:
        return None
    if len(a.defaults) > len(a.args):  # defaults reach into positional-only parameters
        return None
    first = a.args[len(a.args) - len(a.defaults)]
    at = src.start(first)
    return [Edit(at, at, "*, ")], "keyword-only"


REWRITERS: dict[str, Callable[[SourceFile, Function], tuple[list[Edit], str] | None]] = {
    "fstring": rewrite_fstring,
    "printf-format": rewrite_printf,
    "compare-idiom": rewrite_compare_idiom,
    "eq-none": rewrite_eq_none,
    "pathlib": rewrite_pathlib,
    "docstring": rewrite_docstring,
    "type-hints": rewrite_type_hints,
    "dead-code": rewrite_dead_code,
    "rename-test": rewrite_rename_test,
    "keyword-only": rewrite_keyword_only,
}
assert set(REWRITERS) == set(TASKS)

#: Cheap text tests: a file is parsed for a task only if it might hold a site for it.
PREFILTERS: dict[str, re.Pattern[str]] = {
    "fstring": re.compile(r"['\"]\s*%\s*[\w(]"),
    "printf-format": re.compile(r"\b[fF]['\"]"),
    "compare-idiom": re.compile(r"[=!]= None\b|\btype\([^)]*\) [=!]=|\bif not [\w.]+ (is|in) "),
    "eq-none": re.compile(r"\bis (not )?None\b"),
    "pathlib": re.compile(
        r"\bos\.path\.(join|exists|isdir|isfile|basename|dirname|getsize|abspath)\("
    ),
    "rename-test": re.compile(r"def test[A-Z]"),
    "dead-code": re.compile(r"^\s*(return|raise|continue|break|pass)\b", re.MULTILINE),
}


# ---------------------------------------------------------------------- applying
def _apply(text: str, base: int, end: int, edits: Sequence[Edit]) -> str:
    out, cursor = [], base
    for e in sorted(edits, key=lambda e: e.start):
        out.append(text[cursor : e.start])
        out.append(e.text)
        cursor = e.end
    out.append(text[cursor:end])
    return "".join(out)


def rewrite_function(src: SourceFile, fn: Function, task: str) -> Rewrite | None:
    """The proposal `task` makes for `fn`, or None when it does not apply or would break."""
    try:
        found = REWRITERS[task](src, fn)
    except (ValueError, IndexError, RecursionError):
        return None
    if not found:
        return None
    edits, variant = found
    first, last = src.line_span(fn)
    start, end = src.line_starts[first], src.line_starts[last]
    if any(e.start < start or e.end > end for e in edits):
        return None
    original = src.text[start:end]
    proposed = _apply(src.text, start, end, edits)
    if proposed == original or parse_fragment(proposed) is None:
        return None
    return Rewrite(task, src.rel, fn.name, first, last, original, proposed, variant)


def stdlib_root() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


_SKIP_PARTS = {"site-packages", "dist-packages", "data", "__pycache__", "bad_getattr"}


def source_files(root: Path) -> list[Path]:
    """Every .py file under root that is Python source (not test data), sorted."""
    return sorted(
        p
        for p in root.rglob("*.py")
        if not (_SKIP_PARTS & set(p.relative_to(root).parts)) and not p.name.startswith("bad")
    )


def collect(
    tasks: Sequence[str] = TASKS,
    *,
    per_task: int = 100,
    seed: int = 0,
    root: Path | None = None,
    files: Sequence[Path] | None = None,
    per_file: int = 3,
) -> dict[str, list[Rewrite]]:
    """Up to `per_task` rewrites per task, from files visited in a seeded order."""
    root = root or stdlib_root()
    order = list(files) if files is not None else source_files(root)
    random.Random(seed).shuffle(order)
    pools: dict[str, list[Rewrite]] = {t: [] for t in tasks}
    for path in order:
        open_tasks = [t for t in tasks if len(pools[t]) < per_task]
        if not open_tasks:
            break
        try:
            with tokenize.open(path) as f:
                text = f.read()
        except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
            continue
        open_tasks = [t for t in open_tasks if t not in PREFILTERS or PREFILTERS[t].search(text)]
        if not open_tasks:
            continue
        try:
            src = SourceFile(path.relative_to(root).as_posix(), text)
        except (SyntaxError, ValueError, RecursionError):
            continue
        functions = src.functions()
        for task in open_tasks:
            taken = 0
            for fn in functions:
                rw = rewrite_function(src, fn, task)
                if rw is None:
                    continue
                pools[task].append(rw)
                taken += 1
                if taken >= per_file or len(pools[task]) >= per_task:
                    break
    return pools


def _cache_file(key: dict[str, object]) -> Path:
    import json

    import platformdirs

    here = Path(__file__).resolve().parent
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode())
    for module in ("rewrites.py", "analysis.py"):
        digest.update((here / module).read_bytes())
    return (
        Path(platformdirs.user_cache_dir("tether-bench"))
        / f"rewrites-{digest.hexdigest()[:16]}.json"
    )


def collect_cached(
    tasks: Sequence[str], *, per_task: int, seed: int, root: Path | None = None
) -> dict[str, list[Rewrite]]:
    """`collect`, remembered on disk: scanning the whole standard library takes half a minute.

    The cache key covers the arguments, the Python version and this module's own code, so a
    change to any rewrite makes a fresh scan.
    """
    import dataclasses
    import json
    import platform

    root = root or stdlib_root()
    key = {
        "tasks": list(tasks),
        "per_task": per_task,
        "seed": seed,
        "root": str(root),
        "python": platform.python_version(),
    }
    path = _cache_file(key)
    if path.is_file():
        try:
            data = json.loads(path.read_text())
            return {t: [Rewrite(**r) for r in data[t]] for t in tasks}
        except (ValueError, KeyError, TypeError):
            pass  # unreadable cache: scan again
    pools = collect(tasks, per_task=per_task, seed=seed, root=root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({t: [dataclasses.asdict(r) for r in v] for t, v in pools.items()}))
    tmp.replace(path)
    return pools


def stream(
    n: int,
    *,
    seed: int = 0,
    weights: dict[str, float] | None = None,
    root: Path | None = None,
    cache: bool = True,
) -> list[Rewrite]:
    """n proposals, tasks drawn by weight with a seeded generator; the same list every run."""
    weights = dict(weights or DEFAULT_WEIGHTS)
    quota = {t: int(n * w * 1.3) + 5 for t, w in weights.items() if w > 0}
    # one pool size for every n up to 400, so runs of different lengths share the cache
    tasks, per_task = sorted(quota), max(120, *quota.values())
    if cache:
        pools = collect_cached(tasks, per_task=per_task, seed=seed, root=root)
    else:
        pools = collect(tasks, per_task=per_task, seed=seed, root=root)
    rng = random.Random(seed + 1)
    for t in tasks:
        pools[t] = pools[t][: quota[t]]
        rng.shuffle(pools[t])
    out: list[Rewrite] = []
    while len(out) < n:
        live = [t for t in tasks if pools[t]]
        if not live:
            break
        task = rng.choices(live, weights=[weights[t] for t in live])[0]
        out.append(pools[task].pop())
    return out
