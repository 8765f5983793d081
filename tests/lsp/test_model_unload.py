"""The embedded model's idle unload never pulls the model from under a running call."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from tether.agent.providers import GenerationCancelled
from tether.agent.providers.embedded import EmbeddedProvider, loaded_models

from .test_lsp_citizen import tiny_model  # noqa: F401

pytestmark = pytest.mark.slow
ASK = [{"role": "user", "content": "Write a function."}]


async def test_unload_waits_for_the_call_using_the_model(tiny_model: Path) -> None:  # noqa: F811
    provider = EmbeddedProvider(str(tiny_model), idle_unload_seconds=3600)
    cancel = asyncio.Event()
    call = asyncio.create_task(provider.generate(ASK, max_new_tokens=3000, cancel=cancel))
    async with asyncio.timeout(120):
        while not (provider.memory_state()["loaded"] and provider.memory_state()["busy"]):
            await asyncio.sleep(0.01)  # polling for the model to be in use
    assert provider.unload() is False  # in use: it stays
    assert any(m["busy"] for m in loaded_models())
    cancel.set()
    with contextlib.suppress(GenerationCancelled):
        await call
    assert provider.unload() is True  # idle now
    state = provider.memory_state()
    assert state["loaded"] is False and state["unloads"] == 1
    again = await provider.generate(ASK, max_new_tokens=4)  # loads again by itself
    assert again.completions and provider.base_loads == 2
    await provider.aclose()
