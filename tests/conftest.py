"""Fixtures shared by every test: an isolated data root, a fresh store, a workspace."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tether.decisions import DecisionStore

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
MODEL_CACHE = REPO / ".tether-test" / "models"


@pytest.fixture(autouse=True)
def tether_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data root; nothing touches ~/.local/share/tether.

    The converted embedded model is shared across tests (it is read-only once made), via
    TETHER_MODEL_CACHE, so only the first test that needs it pays for the conversion.
    """
    home = tmp_path_factory.mktemp("tether-home")
    monkeypatch.setenv("TETHER_HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))
    monkeypatch.setenv("TETHER_MODEL_CACHE", str(MODEL_CACHE))
    for var in ("TETHER_MODEL", "TETHER_TEACHER"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[DecisionStore]:
    s = await DecisionStore.open(tmp_path / "tether.db")
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of examples/ to work in (tests may edit it freely)."""
    ws = tmp_path / "workspace"
    if EXAMPLES.is_dir():
        shutil.copytree(EXAMPLES, ws)
    else:
        ws.mkdir()
    return ws
