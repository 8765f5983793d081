"""The layering rules `python -m bench.arch` measures, kept: packages import one way, and
the language server, the service, the contract and memory have no import cycle inside
(lazy and TYPE_CHECKING imports count: they tie designs together too)."""

from __future__ import annotations

from bench.arch import ROOT, _package_graph, cycles, scan

GUARDED = ("tether.lsp", "tether.service", "tether.protocol", "tether.memory", "tether.core")


def test_packages_import_one_way() -> None:
    assert cycles(_package_graph(scan(ROOT), lazy=True)) == []


def test_no_import_cycle_in_the_guarded_packages() -> None:
    modules = scan(ROOT)
    graph = {m.name: m.eager | m.lazy for m in modules.values()}
    found = [c for c in cycles(graph) if any(n.startswith(GUARDED) for n in c)]
    assert found == []


def test_no_class_over_400_lines_in_the_service_contract_or_server() -> None:
    big = [
        (f"{m.name}.{cls}", lines)
        for m in scan(ROOT).values()
        if m.name.startswith(("tether.service", "tether.protocol", "tether.lsp"))
        for cls, lines in m.classes.items()
        if lines > 400
    ]
    assert big == []
