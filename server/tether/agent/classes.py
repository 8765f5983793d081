"""Decision classes: which proposals the profile should judge together.

A user who always accepts docstrings in tests may never want refactors in migrations; the
class key groups proposals by the parts that predict a verdict (task, kind of change,
language, path area, size), and the risk flags mark what deserves a modal prompt whatever
the class's history says.
"""

from __future__ import annotations

import ast
import difflib
import re
import textwrap

from tether.agent.globs import matches
from tether.config import ClassSettings

DELETES_CODE = "deletes_code"
TOUCHES_TESTS = "touches_tests"
PUBLIC_SIGNATURE = "public_signature"

_DEF = re.compile(r"^\s*(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)\s*(\([^)]*\))?", re.M)


def area_of(path: str, settings: ClassSettings) -> str:
    """The first configured area whose globs match the path, else `code`."""
    for name, globs in settings.areas.items():
        if matches(path, globs):
            return name
    return "code"


def changed_lines(original: str, proposed: str) -> int:
    """Lines touched by the edit: for each changed block, the larger of its two sides."""
    a, b = original.splitlines(), proposed.splitlines()
    total = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag != "equal":
            total += max(i2 - i1, j2 - j1)
    return total


def size_bucket(lines: int, buckets: list[int]) -> str:
    """`1-3`, `4-15`, … `61+` for buckets [3, 15, 60]: readable in the profile view."""
    low = 1
    for edge in sorted(buckets):
        if lines <= edge:
            return f"{low}-{edge}"
        low = edge + 1
    return f"{low}+"


def _parse(code: str) -> ast.Module | None:
    """Parse a fragment that may be indented (a method body, a nested block)."""
    try:
        return ast.parse(textwrap.dedent(code))
    except SyntaxError:
        return None


def _param_shape(args: ast.arguments) -> tuple[object, ...]:
    """What callers depend on: names, kinds and which have defaults; not annotations."""
    positional = [a.arg for a in (*args.posonlyargs, *args.args)]
    return (
        len(args.posonlyargs),
        tuple(positional),
        len(args.defaults),
        args.vararg.arg if args.vararg else None,
        tuple(a.arg for a in args.kwonlyargs),
        tuple(d is not None for d in args.kw_defaults),
        args.kwarg.arg if args.kwarg else None,
    )


def _public_api(tree: ast.Module) -> dict[str, object]:
    """Qualified name -> call shape of every public function and class in the fragment."""
    out: dict[str, object] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                if not child.name.startswith("_") or child.name == "__init__":
                    out[prefix + child.name] = _param_shape(child.args)
            elif isinstance(child, ast.ClassDef) and not child.name.startswith("_"):
                out[prefix + child.name] = "class"
                visit(child, f"{prefix}{child.name}.")

    visit(tree, "")
    return out


def _regex_api(code: str) -> dict[str, object]:
    """Fallback for fragments that do not parse: def/class names and raw parameter text."""
    return {
        m.group(1): re.sub(r"\s+|:[^,)=]*", "", m.group(2) or "")
        for m in _DEF.finditer(code)
        if not m.group(1).startswith("_")
    }


def _code_lines(text: str) -> int:
    return sum(1 for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#"))


def risk_flags(path: str, original: str, proposed: str, settings: ClassSettings) -> list[str]:
    flags: list[str] = []
    a, b = original.splitlines(), proposed.splitlines()
    removed_code = False
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "delete" or (tag == "replace" and _code_lines("\n".join(b[j1:j2])) == 0):
            removed_code = removed_code or _code_lines("\n".join(a[i1:i2])) > 0
    old_tree, new_tree = _parse(original), _parse(proposed)
    if old_tree is not None and new_tree is not None:
        old_api, new_api = _public_api(old_tree), _public_api(new_tree)
    else:
        old_api, new_api = _regex_api(original), _regex_api(proposed)
    if removed_code or any(name not in new_api for name in old_api):
        flags.append(DELETES_CODE)
    tests_globs = settings.areas.get("tests", [])
    if matches(path, tests_globs) or re.search(r"^\s*(?:async\s+)?def test_", original, re.M):
        flags.append(TOUCHES_TESTS)
    if any(name in new_api and new_api[name] != shape for name, shape in old_api.items()) or any(
        name not in new_api for name in old_api
    ):
        flags.append(PUBLIC_SIGNATURE)
    return flags


def classify(
    path: str,
    task: str,
    language: str,
    original: str,
    proposed: str | None,
    settings: ClassSettings,
    kind: str = "",
) -> tuple[str, list[str]]:
    """(class key, risk flags) for an edit; the key joins the configured parts with `:`.

    `proposed=None` estimates the class before the model has answered (for routing): the
    selected range's size stands in for the change's, and there are no risk flags yet.
    """
    if proposed is None:
        size = max(1, len(original.splitlines()))
        flags: list[str] = []
    else:
        size = changed_lines(original, proposed)
        flags = risk_flags(path, original, proposed, settings)
    parts: list[str] = []
    for part in settings.parts:
        if part == "task":
            parts.append(task)
        elif part == "kind":
            parts.append(kind or "any")
        elif part == "language":
            parts.append(language or "text")
        elif part == "area":
            parts.append(area_of(path, settings))
        elif part == "size":
            parts.append(size_bucket(size, settings.size_buckets))
        elif part == "risk":
            parts.append("+".join(flags) if flags else "plain")
    return ":".join(parts), flags


#: Class parts that depend on the answer, unknown before the model has spoken.
ANSWER_PARTS = frozenset({"size", "risk", "kind"})


def route_key(class_key: str, settings: ClassSettings) -> str:
    """The part of a class key known before answering (task, language, area).

    Routing must decide before there is an answer, so it judges the student on this
    family of classes; proposals' full keys map onto it by dropping size, risk and kind.
    A key recorded before the parts included the kind (one part short) maps the same way.
    """
    values = class_key.split(":")
    names = list(settings.parts)
    if len(values) != len(names) and "kind" in names:
        names = [n for n in names if n != "kind"]
    if len(values) != len(names):
        return class_key
    kept = [v for name, v in zip(names, values, strict=True) if name not in ANSWER_PARTS]
    return ":".join(kept)


def request_key(path: str, task: str, language: str, settings: ClassSettings) -> str:
    """The route key of a request, from what is known before answering."""
    key, _ = classify(path, task, language, "", None, settings)
    return route_key(key, settings)
