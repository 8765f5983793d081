"""Who generates for the API: this process (transformers + PEFT, the student the editor
uses, with its active adapter), or an engine the user already runs — llama.cpp's server,
Ollama, or vLLM started with `--enable-lora` — through its OpenAI-compatible HTTP API.
Tether never batches or schedules requests itself; engines do that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx

from tether.agent.prompting import Message
from tether.agent.providers.base import (
    Generation,
    Provider,
    ProviderUnavailable,
    candidate_temperature,
    until_cancelled,
)

#: Where each engine listens by default (loopback).
DEFAULT_URLS = {
    "llamacpp": "http://127.0.0.1:8080",
    "ollama": "http://127.0.0.1:11434",
    "vllm": "http://127.0.0.1:8000",
}


class EngineProvider(Provider):
    """A student behind an engine's `/v1/chat/completions` (llama.cpp server, Ollama, vLLM).

    For vLLM with `--enable-lora`, `model` is the LoRA's name as registered there; for
    Ollama, the model created from the bundle's Modelfile; llama.cpp's server serves the
    model (and `--lora` adapter) it was started with whatever the name.
    """

    def __init__(self, kind: str, base_url: str, model: str, *, timeout: float = 60.0) -> None:
        self.kind = kind
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.model_id = f"{kind}:{model}"
        self._client = httpx.AsyncClient(base_url=self.base_url, timeout=timeout)

    async def _one(
        self, messages: Sequence[Message], max_new_tokens: int, temperature: float
    ) -> tuple[str, str]:
        body = {
            "model": self.model,
            "messages": list(messages),
            "max_tokens": max_new_tokens,
            "temperature": temperature,
        }
        try:
            response = await self._client.post("/v1/chat/completions", json=body)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(
                f"the {self.kind} engine at {self.base_url} did not answer "
                f"({exc.__class__.__name__}); is it running? (`tether doctor` lists the engines "
                "it finds)"
            ) from None
        if response.status_code != 200:
            raise ProviderUnavailable(
                f"the {self.kind} engine at {self.base_url} answered {response.status_code}: "
                f"{response.text[:200]}"
            )
        choice = response.json()["choices"][0]
        return str(choice["message"]["content"] or ""), str(choice.get("finish_reason") or "stop")

    async def generate(
        self,
        messages: Sequence[Message],
        *,
        n: int = 1,
        max_new_tokens: int = 256,
        temperature: float = 0.2,
        cancel: asyncio.Event | None = None,
        hints: dict[str, Any] | None = None,
    ) -> Generation:
        temperature = candidate_temperature(temperature, n)
        work = asyncio.gather(*(self._one(messages, max_new_tokens, temperature) for _ in range(n)))
        results = await until_cancelled(work, cancel)
        return self._generation(messages, results)

    async def aclose(self) -> None:
        await self._client.aclose()


def engine_provider(
    kind: str, url: str | None, model: str | None, timeout: float
) -> EngineProvider:
    if kind not in DEFAULT_URLS:
        raise ValueError(f"unknown engine {kind!r}; use one of {', '.join(DEFAULT_URLS)}")
    return EngineProvider(kind, url or DEFAULT_URLS[kind], model or "tether", timeout=timeout)


async def probe(url: str, *, timeout: float = 0.3) -> list[str] | None:
    """The models an OpenAI-compatible engine at `url` lists, or None when nothing answers."""
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.get(url.rstrip("/") + "/v1/models")
    except httpx.HTTPError:
        return None
    if response.status_code in (401, 403):
        return []  # an engine that wants a key
    if response.status_code != 200:
        return None  # something else listens there
    try:
        data = response.json().get("data", [])
        return [str(m.get("id")) for m in data if isinstance(m, dict)]
    except (ValueError, AttributeError):
        return None
