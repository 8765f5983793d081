"""Providers at their true edges: Ollama not running, cloud keys missing, recorded files."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from tether.agent.providers import (
    ProviderConfigError,
    ProviderUnavailable,
    make_provider,
)
from tether.agent.providers.litellm import LiteLLMProvider
from tether.agent.providers.ollama import OllamaProvider
from tether.agent.providers.replay import ReplayProvider
from tether.config import Settings

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_ollama_not_running_is_a_typed_error_saying_what_to_do() -> None:
    host = f"http://127.0.0.1:{unused_port()}"
    provider = make_provider("ollama:llama3.2", Settings(ollama_host=host))
    assert isinstance(provider, OllamaProvider)
    with pytest.raises(ProviderUnavailable) as info:
        await provider.generate(MESSAGES)
    assert str(info.value).startswith(f"Ollama is not running at {host}")
    assert "ollama serve" in str(info.value)


async def test_litellm_without_a_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    provider = make_provider("litellm:anthropic/claude-3-5-haiku-latest", Settings())
    with pytest.raises(ProviderConfigError, match="needs ANTHROPIC_API_KEY in the environment"):
        await provider.generate(MESSAGES)


async def test_litellm_candidates_through_its_own_mock() -> None:
    """litellm's `mock_response` stands in for the cloud API (the only mocked edge)."""
    provider = LiteLLMProvider(
        "anthropic/claude-3-5-haiku-latest", extra={"mock_response": "```python\nx = 1\n```"}
    )
    gen = await provider.generate(MESSAGES, n=2)
    assert gen.completions == ["```python\nx = 1\n```"] * 2
    assert gen.model == "litellm:anthropic/claude-3-5-haiku-latest"
    assert gen.prompt.startswith("<|im_start|>system\nBe brief.<|im_end|>")


async def test_replay_matches_task_and_path_then_falls_back(tmp_path: Path) -> None:
    f = tmp_path / "r.jsonl"
    f.write_text(
        '{"completion": "any-1"}\n{"task": "fix", "completion": "fix-1"}\n'
        '{"task": "fix", "path": "a.py", "completion": "fix-a"}\n\n'
        '{"completion": "any-2"}\n{"completions": ["c1", "c2"], "task": "document"}\n'
    )
    p = ReplayProvider(f)
    out = [
        (await p.generate(MESSAGES, hints=h)).completions
        for h in (
            {"task": "improve"},
            {"task": "improve"},
            {"task": "improve"},
            {"task": "fix", "path": "b.py"},
            {"task": "fix", "path": "a.py"},
        )
    ]
    assert out == [["any-1"], ["any-2"], ["any-1"], ["fix-1"], ["fix-1"]]
    assert (await p.generate(MESSAGES, n=2, hints={"task": "document"})).completions == ["c1", "c2"]
    cancel = asyncio.Event()
    cancel.set()
    from tether.agent.providers import GenerationCancelled

    with pytest.raises(GenerationCancelled):
        await p.generate(MESSAGES, cancel=cancel)


def test_bad_replay_files_and_model_strings(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"completion": "ok"}\n{"nothing": 1}\n')
    with pytest.raises(ProviderConfigError, match=r"bad.jsonl:2: not a replay entry"):
        asyncio.run(ReplayProvider(bad).generate(MESSAGES))
    with pytest.raises(ProviderConfigError, match="does not exist"):
        asyncio.run(ReplayProvider(tmp_path / "missing.jsonl").generate(MESSAGES))
    with pytest.raises(ProviderConfigError, match="unknown embedded model 'gpt5'"):
        make_provider("embedded:gpt5", Settings())
    with pytest.raises(ProviderConfigError, match="unknown kind"):
        make_provider("openai:gpt-4o", Settings())
