"""Fixtures for end-to-end tests of `tether lsp` over stdio, with a scripted editor.

Every test starts its own server process with `TETHER_MODEL=replay:FILE`, so the agent
answers from recorded completions (deterministic, no model), and its own data root (the
autouse `tether_home` fixture), so the SQLite store each test reads is its own.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types as lsp
from pytest_lsp import client_capabilities

from tether.core.types import Range
from tether.paths import WorkspacePaths

from .editor import Editor, make_editor, start

CLIENTS = {
    "vscode": ("visual-studio-code", "before"),
    "neovim": ("neovim@v0.11", "after"),
}
#: Parametrize a test over both editors' capabilities.
BOTH = pytest.mark.parametrize("kind", list(CLIENTS))

SOURCE = (
    "def greet(name):\n"
    '    message = "Hello, " + name\n'
    "    print(message)\n"
    "    return message\n"
    "\n"
    "\n"
    "def total(values):\n"
    "    result = 0\n"
    "    for v in values:\n"
    "        result = result + v\n"
    "    return result\n"
)
#: Two hunks (lines 0 and 2) for greet; neither deletes code nor changes the signature.
GREET_IMPROVED = (
    "def greet(name: str) -> str:\n"
    '    message = "Hello, " + name\n'
    "    print(message, flush=True)\n"
    "    return message\n"
)
TOTAL = Range.of(6, 0, 10, 17)
TOTAL_IMPROVED = (
    "def total(values: list[int]) -> int:\n"
    "    result = 0\n"
    "    for v in values:\n"
    "        result += v\n"
    "    return result\n"
)
#: Deletes a line of code: a risky proposal (and one the verifier lets through: it adds no
#: ruff finding, reads and assigns what the original did).
GREET_RISKY = 'def greet(name):\n    message = "Hello, " + name\n    print(message)\n'


def fenced(code: str, rationale: str) -> str:
    return f"{rationale}\n```python\n{code}```"


IMPROVE = {"task": "improve", "completion": fenced(GREET_IMPROVED, "Annotate greet and flush.")}
IMPROVE_TOTAL = {"task": "improve", "completion": fenced(TOTAL_IMPROVED, "Annotate total.")}
RISKY = {"task": "improve", "completion": fenced(GREET_RISKY, "Drop the return.")}


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


def store_path(ws: Path, home: Path) -> Path:
    return WorkspacePaths(ws, home).db


Launch = Callable[..., Awaitable[Editor]]


@pytest_asyncio.fixture
async def launch(ws: Path, tmp_path: Path, tether_home: Path) -> AsyncIterator[Launch]:
    """Start `tether lsp` with a replay model and an editor's capabilities."""
    editors: list[Editor] = []

    async def go(
        kind: str = "vscode",
        *,
        replay: list[dict[str, Any]] | None = None,
        options: dict[str, Any] | None = None,
        configuration: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        folders: list[Path] | None = None,
    ) -> Editor:
        spec, echo = CLIENTS[kind]
        replay_file = tmp_path / "replay.jsonl"
        replay_file.write_text(
            "".join(json.dumps(e) + "\n" for e in (replay or [IMPROVE])), encoding="utf-8"
        )
        editor = make_editor(ws, echo)
        if configuration is not None:
            editor.client.set_configuration(configuration, section="tether")
        # one recorded answer per request (the agent samples several by default)
        base = {"TETHER_MODEL": f"replay:{replay_file}", "TETHER_CANDIDATES": "1"}
        await start(editor, {**base, **(env or {})})
        editors.append(editor)
        editor.init_result = await editor.client.initialize_session(
            lsp.InitializeParams(
                capabilities=client_capabilities(spec),
                root_uri=ws.as_uri(),
                workspace_folders=[
                    lsp.WorkspaceFolder(uri=f.as_uri(), name=f.name) for f in (folders or [ws])
                ],
                initialization_options=options,
            )
        )
        return editor

    yield go
    for editor in editors:
        try:
            await editor.client.shutdown_session()
        finally:
            await editor.client.stop()
