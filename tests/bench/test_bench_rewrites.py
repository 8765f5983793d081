"""The benchmark's proposals: AST rewrites must give valid Python that differs from the input."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from bench.analysis import compare, parse_fragment
from bench.rewrites import (
    REWRITERS,
    TASKS,
    SourceFile,
    collect,
    format_calls_to_fstrings,
    rewrite_function,
    source_files,
    stdlib_root,
)

#: One module with a site for every rewrite, as a class (methods are indented fragments).
SAMPLE = textwrap.dedent(
    """
    import os


    class Report:
        def render(self, name, count=0, verbose=False):
            if name == None:
                name = "item"
            if self.cache is None:
                self.cache = {}
            if not name in self.seen:
                pass
                self.seen.add(name)
            path = os.path.join(self.root, name)
            if os.path.exists(path):
                return "%s: %d" % (name, count)
            label = f"{name}!"
            if type(count) == int:
                return label
            return None
            print("unreachable")

        def testFancyName(self):
            self.assertEqual(1, 1)
    """
)


@pytest.fixture
def sample(tmp_path: Path) -> SourceFile:
    (tmp_path / "test").mkdir()
    return SourceFile("test/report.py", SAMPLE)


@pytest.mark.parametrize("task", TASKS)
def test_every_rewrite_gives_valid_different_python(sample: SourceFile, task: str) -> None:
    produced = [rw for fn in sample.functions() if (rw := rewrite_function(sample, fn, task))]
    assert produced, f"{task} found no site in the sample"
    for rw in produced:
        assert rw.proposed != rw.original
        assert parse_fragment(rw.proposed) is not None
        # splicing the proposal back into the file gives a module that still parses
        lines = SAMPLE.splitlines(keepends=True)
        new_module = "".join(lines[: rw.start_line]) + rw.proposed + "".join(lines[rw.end_line :])
        ast.parse(new_module)


def test_rewrites_do_what_their_name_says(sample: SourceFile) -> None:
    render = next(fn for fn in sample.functions() if fn.name == "render")

    def proposed(task: str) -> str:
        rw = rewrite_function(sample, render, task)
        assert rw is not None
        return rw.proposed

    assert "is None" in proposed("compare-idiom") and "name not in self.seen" in proposed(
        "compare-idiom"
    )
    assert "Path(self.root) / name" in proposed("pathlib")
    assert 'print("unreachable")' not in proposed("dead-code")
    assert "*, count=0" in proposed("keyword-only")
    hinted = proposed("type-hints")
    assert "count: int = 0" in hinted and "verbose: bool = False" in hinted
    assert "name == None" in proposed("printf-format")  # untouched part stays as it was
    assert "'%s!' % (name,)" in proposed("printf-format")
    test_fn = next(fn for fn in sample.functions() if fn.name == "testFancyName")
    renamed = rewrite_function(sample, test_fn, "rename-test")
    assert renamed is not None and "def test_fancy_name(self):" in renamed.proposed


def test_fstring_rewrite_keeps_meaning() -> None:
    src = SourceFile("m.py", 'def f(name, n):\n    return "%s has %d (%r)" % (name, n, name)\n')
    (fn,) = src.functions()
    rw = rewrite_function(src, fn, "fstring")
    assert rw is not None
    env_old: dict[str, object] = {}
    env_new: dict[str, object] = {}
    exec(rw.original, env_old)
    exec(rw.proposed, env_new)
    assert env_old["f"]("a", 3) == env_new["f"]("a", 3)  # type: ignore[operator]


def test_format_calls_become_fstrings() -> None:
    code = "    def f(self, a):\n        return 'x {} {!r}'.format(a, self)\n"
    fixed = format_calls_to_fstrings(code)
    assert fixed == "    def f(self, a):\n        return f'x {a} {self!r}'\n"


def test_collection_on_real_stdlib_files_is_deterministic() -> None:
    root = stdlib_root()
    files = [p for p in source_files(root) if p.parent == root][:25]
    first = collect(TASKS, per_task=3, seed=7, root=root, files=files)
    second = collect(TASKS, per_task=3, seed=7, root=root, files=files)
    assert first == second
    found = [rw for pool in first.values() for rw in pool]
    assert len(found) >= 10
    for rw in found:
        assert rw.proposed != rw.original
        assert parse_fragment(rw.proposed) is not None
        assert compare(rw.original, rw.proposed).parses


def test_every_task_has_a_rewriter() -> None:
    assert set(REWRITERS) == set(TASKS)
