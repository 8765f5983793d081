"""Architecture numbers anyone can re-run: module sizes, the largest classes, import cycles.

Only the standard library's `ast` reads the code (nothing is imported), so the numbers are
the same on any machine. Usage:

    .venv/bin/python -m bench.arch                 # Markdown summary
    .venv/bin/python -m bench.arch --json out.json # and the full numbers as JSON

Import cycles are strongly connected components of the module graph, counting imports made
at module level (the ones that run when a module is imported) and, separately, every import
anywhere in a module (function-level and `TYPE_CHECKING` ones included) — a cycle through a
lazy import still ties two modules' designs together.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "server"
PACKAGE = "tether"


@dataclass
class Module:
    name: str
    path: Path
    lines: int
    classes: dict[str, int] = field(default_factory=dict)  # class -> lines
    eager: set[str] = field(default_factory=set)  # imported at module level
    lazy: set[str] = field(default_factory=set)  # imported anywhere else


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, current: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.AST, current: str, is_package: bool, known: set[str]) -> set[str]:
    """The project modules an import statement loads (`from a import b` may name module a.b)."""
    out: set[str] = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            out.add(alias.name)
    elif isinstance(node, ast.ImportFrom):
        base = _resolve(node, current, is_package)
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            out.add(sub if sub in known else base)
    return {_owner(t, known) for t in out if t.split(".")[0] == PACKAGE} - {None, current}  # type: ignore[arg-type]


def _owner(name: str, known: set[str]) -> str | None:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def scan(root: Path = ROOT) -> dict[str, Module]:
    files = sorted((root / PACKAGE).rglob("*.py"))
    known = {module_name(p, root) for p in files}
    modules: dict[str, Module] = {}
    for path in files:
        name = module_name(path, root)
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text, filename=str(path))
        mod = Module(name=name, path=path, lines=len(text.splitlines()))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                end = node.end_lineno or node.lineno
                mod.classes[node.name] = end - node.lineno + 1
        eager_nodes: set[int] = set()
        for stmt in _module_level(tree.body):
            eager_nodes.add(id(stmt))
            mod.eager |= _targets(stmt, name, is_package, known)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in eager_nodes:
                mod.lazy |= _targets(node, name, is_package, known)
            elif _dynamic_import(node):  # importlib.import_module("tether.x"): a hidden edge
                owner = _owner(node.args[0].value, known)  # type: ignore[attr-defined]
                if owner and owner != name:
                    mod.lazy.add(owner)
        mod.lazy -= mod.eager
        modules[name] = mod
    return modules


def _dynamic_import(node: ast.AST) -> bool:
    if not (isinstance(node, ast.Call) and node.args):
        return False
    func = node.func
    named = (isinstance(func, ast.Attribute) and func.attr == "import_module") or (
        isinstance(func, ast.Name) and func.id == "import_module"
    )
    arg = node.args[0]
    return (
        named
        and isinstance(arg, ast.Constant)
        and isinstance(arg.value, str)
        and arg.value.split(".")[0] == PACKAGE
    )


def _module_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Import statements that run at import time (inside try/if too, but not TYPE_CHECKING)."""
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            out.append(stmt)
        elif isinstance(stmt, ast.If) and not _is_type_checking(stmt):
            out += _module_level(stmt.body) + _module_level(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            out += _module_level(stmt.body)
            for handler in stmt.handlers:
                out += _module_level(handler.body)
            out += _module_level(stmt.orelse) + _module_level(stmt.finalbody)
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    item = stack.pop()
                    on_stack.discard(item)
                    component.append(item)
                    if item == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return sorted(out, key=lambda c: (-len(c), c))


def _package_graph(modules: dict[str, Module], *, lazy: bool) -> dict[str, set[str]]:
    """Imports between top-level packages of tether (tether.agent -> tether.memory …)."""

    def top(name: str) -> str:
        parts = name.split(".")
        return ".".join(parts[:2])

    graph: dict[str, set[str]] = {}
    for mod in modules.values():
        edges = mod.eager | (mod.lazy if lazy else set())
        graph.setdefault(top(mod.name), set()).update(
            top(t) for t in edges if top(t) != top(mod.name)
        )
    return graph


def measure(root: Path = ROOT) -> dict[str, object]:
    modules = scan(root)
    eager = {m.name: m.eager for m in modules.values()}
    everything = {m.name: m.eager | m.lazy for m in modules.values()}
    classes = sorted(
        ((lines, f"{m.name}.{cls}") for m in modules.values() for cls, lines in m.classes.items()),
        reverse=True,
    )
    lines = sorted(((m.lines, m.name) for m in modules.values()), reverse=True)
    total = sum(m.lines for m in modules.values())
    return {
        "modules": len(modules),
        "total_lines": total,
        "mean_lines": round(total / max(1, len(modules)), 1),
        "lines": {name: n for n, name in lines},
        "largest_modules": [{"module": name, "lines": n} for n, name in lines[:10]],
        "largest_classes": [{"class": name, "lines": n} for n, name in classes[:10]],
        "classes_over_400": [name for n, name in classes if n > 400],
        "cycles_module_level": cycles(eager),
        "cycles_all_imports": cycles(everything),
        "package_cycles_all_imports": cycles(_package_graph(modules, lazy=True)),
    }


def markdown(result: dict[str, object]) -> str:
    out = [
        f"modules: {result['modules']}, lines: {result['total_lines']} "
        f"(mean {result['mean_lines']} per module)",
        "",
        "largest modules: "
        + ", ".join(f"{m['module']} {m['lines']}" for m in result["largest_modules"][:5]),  # type: ignore[index]
        "largest classes: "
        + ", ".join(f"{c['class']} {c['lines']}" for c in result["largest_classes"][:5]),  # type: ignore[index]
        f"classes over 400 lines: {result['classes_over_400'] or 'none'}",
    ]
    for key, title in (
        ("cycles_module_level", "import cycles (module-level imports)"),
        ("cycles_all_imports", "import cycles (all imports, lazy and TYPE_CHECKING included)"),
        ("package_cycles_all_imports", "package cycles (all imports)"),
    ):
        found = result[key]
        out.append(f"{title}: {len(found)}")  # type: ignore[arg-type]
        out += [f"  - {' ↔ '.join(c)}" for c in found]  # type: ignore[union-attr]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the full numbers here")
    parser.add_argument("--root", type=Path, default=ROOT, help="the folder holding tether/")
    args = parser.parse_args(argv)
    result = measure(args.root)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
