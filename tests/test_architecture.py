"""The layering rules `python -m bench.arch` measures, kept: packages import one way, no
module takes part in an import cycle (lazy and TYPE_CHECKING imports count: they tie
designs together too), and no class grows past ~400 lines (small modules, one job each)."""

from __future__ import annotations

from pathlib import Path

from bench.arch import ROOT, _package_graph, cycles, scan

MAX_CLASS_LINES = 400


def _all_imports(root: Path) -> dict[str, set[str]]:
    return {m.name: m.eager | m.lazy for m in scan(root).values()}


def _big_classes(root: Path) -> list[tuple[str, int]]:
    return [
        (f"{m.name}.{cls}", lines)
        for m in scan(root).values()
        for cls, lines in m.classes.items()
        if lines > MAX_CLASS_LINES
    ]


def test_packages_import_one_way() -> None:
    assert cycles(_package_graph(scan(ROOT), lazy=True)) == []


def test_no_import_cycle_anywhere() -> None:
    assert cycles(_all_imports(ROOT)) == []


def test_no_class_over_400_lines() -> None:
    assert _big_classes(ROOT) == []


def test_the_checks_see_a_lazy_cycle_and_a_big_class(tmp_path: Path) -> None:
    """The rules above would pass on a checker that finds nothing: show it finds both."""
    pkg = tmp_path / "tether" / "decisions"
    pkg.mkdir(parents=True)
    (tmp_path / "tether" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "store.py").write_text("from tether.decisions import verify\n")
    (pkg / "verify.py").write_text(
        "def check():\n    from tether.decisions.store import thing\n    return thing\n"
    )
    body = "".join(f"    def m{i}(self) -> int:\n        return {i}\n" for i in range(200))
    (pkg / "big.py").write_text(f"class Big:\n{body}")
    assert cycles(_all_imports(tmp_path)) == [["tether.decisions.store", "tether.decisions.verify"]]
    assert _big_classes(tmp_path) == [("tether.decisions.big.Big", 401)]
