"""Fixtures for the headless Neovim tests (the harness is in nvim_harness.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from nvim_harness import Nvim, Project, make_project


@pytest.fixture
def nvim(tmp_path: Path, tether_home: Path) -> Nvim:
    return Nvim(tmp_path, tether_home)


@pytest.fixture
def project(tmp_path: Path, nvim: Nvim) -> Project:
    """A workspace whose server answers from the replay file (deterministic proposals)."""
    p = make_project(tmp_path)
    nvim.env["TETHER_MODEL"] = f"replay:{p.replay}"
    return p
