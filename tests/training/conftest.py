"""Fixtures for training tests: a tiny real model, a workspace with its store, fast settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tether.config import Settings
from tether.decisions import DecisionStore
from tether.paths import WorkspacePaths

from .helpers import build_tiny_adapter, build_tiny_model

MODEL_CACHE = Path(__file__).resolve().parents[2] / ".tether-test" / "models"  # as tests/conftest


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer Llama with SmolLM2's real tokenizer, built once per test session."""
    from tether.embedded import ensure_plain_model

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TETHER_MODEL_CACHE", str(MODEL_CACHE))
        tokenizer_dir = ensure_plain_model()
    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"), tokenizer_dir)


@pytest.fixture
def ws_paths(tmp_path: Path, tether_home: Path) -> WorkspacePaths:
    ws = tmp_path / "ws"
    ws.mkdir()
    return WorkspacePaths(ws, tether_home).ensure()


@pytest.fixture
async def ws_store(ws_paths: WorkspacePaths) -> AsyncIterator[DecisionStore]:
    s = await DecisionStore.open(ws_paths.db)
    try:
        yield s
    finally:
        await s.close()


def fast_settings(**training: object) -> Settings:
    """Settings for the tiny model: a high learning rate so a few steps learn the taste."""
    base: dict[str, object] = {
        "learning_rate": 2e-2,
        "batch_size": 2,
        "epochs": 1.0,
        "max_length": 256,
        "min_pairs_for_dpo": 4,
        "worker_nice": 0,
    }
    base.update(training)
    return Settings.model_validate({"training": base})


@pytest.fixture(scope="session")
def tiny_adapter(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_adapter(tmp_path_factory.mktemp("tiny-adapter") / "adapter", tiny_model)
