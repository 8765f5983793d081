"""Fixtures for the agent's tests: the real SmolLM2 tokenizer and a tiny model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from tether_tiny_models import MODEL_CACHE, build_tiny_model


@pytest.fixture(scope="session")
def smol_dir() -> Path:
    """The converted SmolLM2 (shared by every test through TETHER_MODEL_CACHE)."""
    with mock.patch.dict(os.environ, {"TETHER_MODEL_CACHE": str(MODEL_CACHE)}):
        from tether.embedded import ensure_plain_model

        return ensure_plain_model()


@pytest.fixture(scope="session")
def smol_tokenizer(smol_dir: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(smol_dir)


@pytest.fixture
def tiny_model(smol_tokenizer: Any) -> Any:
    return build_tiny_model(smol_tokenizer)
