"""What `tether lsp` does before `initialize`: only its own subcommand, attrs code reused.

Each check runs in a fresh interpreter, since what matters is what a new process imports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tether.cli.main import build_parser, subcommand_modules

#: Imports lsprotocol through the cache, then exercises classes and pygls' converter.
USE_LSPROTOCOL = textwrap.dedent(
    """
    import importlib, json, sys
    from tether.lsp import codecache

    if sys.argv[1] == "cached":
        lsp = codecache.import_cached("lsprotocol.types")
    else:
        lsp = importlib.import_module("lsprotocol.types")
    from pygls.protocol import default_converter

    conv = default_converter()
    params = conv.structure(
        {"processId": 7, "rootUri": "file:///ws", "capabilities": {
            "textDocument": {"codeAction": {"dynamicRegistration": True}}}},
        lsp.InitializeParams,
    )
    a = lsp.Range(start=lsp.Position(line=1, character=2), end=lsp.Position(line=3, character=0))
    b = lsp.Range(start=lsp.Position(line=1, character=2), end=lsp.Position(line=3, character=0))
    print(json.dumps({
        "reused": codecache.stats.reused,
        "compiled": codecache.stats.compiled,
        "cache": str(codecache.stats.path),
        "pid": params.process_id,
        "dynamic": params.capabilities.text_document.code_action.dynamic_registration,
        "equal": a == b and a != lsp.Range(start=a.start, end=a.start),
        "repr": repr(a.start),
        "init_file": lsp.Position.__init__.__code__.co_filename,
        "unstructured": conv.unstructure(a),
    }))
    """
)


def _run(code: str, home: Path, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TETHER_HOME": str(home)},
    )
    return json.loads(out.stdout)


def _same_behaviour(result: dict, plain: dict) -> None:
    """Everything but the cache's own counters matches a plain import of lsprotocol."""
    assert result["pid"] == 7 and result["dynamic"] is True and result["equal"] is True
    assert result["unstructured"] == {
        "start": {"line": 1, "character": 2},
        "end": {"line": 3, "character": 0},
    }
    assert result["init_file"].startswith("<attrs generated")
    ignore = {"reused", "compiled", "cache"}
    assert {k: v for k, v in result.items() if k not in ignore} == {
        k: v for k, v in plain.items() if k not in ignore
    }


def test_attrs_code_is_compiled_once_then_reused(tmp_path: Path) -> None:
    plain = _run(USE_LSPROTOCOL, tmp_path, "plain")
    assert plain["compiled"] == 0 and plain["reused"] == 0

    first = _run(USE_LSPROTOCOL, tmp_path, "cached")
    assert first["compiled"] > 500 and first["reused"] == 0
    assert Path(first["cache"]).is_file()
    _same_behaviour(first, plain)

    second = _run(USE_LSPROTOCOL, tmp_path, "cached")
    assert second["compiled"] == 0 and second["reused"] == first["compiled"]
    _same_behaviour(second, plain)

    Path(first["cache"]).write_bytes(b"\x00not marshal data" * 10)
    damaged = _run(USE_LSPROTOCOL, tmp_path, "cached")
    assert damaged["compiled"] == first["compiled"] and damaged["reused"] == 0
    _same_behaviour(damaged, plain)


def test_each_subcommand_module_registers_its_own_name() -> None:
    names = subcommand_modules()
    assert {"lsp", "verify", "history"} <= set(names)
    for name in names:
        sub = next(a for a in build_parser(name)._actions if a.dest == "command")
        assert set(sub.choices) == {name}  # type: ignore[arg-type]
    full = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(full.choices) == set(names)  # type: ignore[arg-type]


def test_starting_the_server_imports_no_other_subcommand(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import json, sys
        from tether.cli import main as cli
        parser = cli.build_parser(cli._named_subcommand(["lsp", "--stdio"]))
        args = parser.parse_args(["lsp", "--stdio"])
        print(json.dumps({
            "func": args.func.__module__,
            "commands": sorted(m for m in sys.modules if m.startswith("tether.cli.cmd_")),
        }))
        """
    )
    result = _run(code, tmp_path)
    assert result == {"func": "tether.cli.cmd_lsp", "commands": ["tether.cli.cmd_lsp"]}
