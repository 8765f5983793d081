"""A local model served by Ollama, through the official `ollama` client.

Ollama applies the model's own chat template server-side; the prompt a proposal records
is the deterministic ChatML rendering of the same messages (what a student trained on
this data would see). When the request has a partial-answer sink (an editor showing the
answer as it is written), the first candidate is streamed and each piece reported.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from tether.agent.prompting import Message
from tether.agent.providers.base import (
    Generation,
    PartialSink,
    Provider,
    ProviderConfigError,
    ProviderError,
    ProviderUnavailable,
    candidate_temperature,
    partial_sink,
    report_partial,
    until_cancelled,
)


class OllamaProvider(Provider):
    def __init__(
        self,
        name: str,
        *,
        host: str = "http://127.0.0.1:11434",
        timeout: float = 60.0,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.model_id = f"ollama:{name}"
        self.name = name
        self.host = host
        self.timeout = timeout
        self.options = dict(options or {})
        self._client: Any = None

    def _get_client(self) -> Any:
        if self._client is None:
            try:
                import ollama
            except ImportError:
                raise ProviderConfigError(
                    "the Ollama provider needs the ollama client: pip install 'tether[ollama]'"
                ) from None
            self._client = ollama.AsyncClient(host=self.host, timeout=self.timeout)
        return self._client

    def _error(self, exc: BaseException) -> ProviderError:
        import httpx
        import ollama

        if isinstance(exc, ConnectionError | httpx.ConnectError):
            return ProviderUnavailable(
                f"Ollama is not running at {self.host}: start it with `ollama serve`, or set "
                "ollama_host to where it runs"
            )
        if isinstance(exc, httpx.TimeoutException | TimeoutError):
            return ProviderUnavailable(
                f"Ollama at {self.host} did not answer within {self.timeout:g} s; try again, or "
                "raise request_timeout"
            )
        if isinstance(exc, ollama.ResponseError):
            if exc.status_code == 404:
                return ProviderConfigError(
                    f"Ollama at {self.host} has no model {self.name!r}: run `ollama pull "
                    f"{self.name}`"
                )
            return ProviderError(f"Ollama at {self.host} refused the request: {exc.error}")
        return ProviderError(f"Ollama at {self.host} failed: {exc}")

    def _options(self, max_new_tokens: int, temperature: float, seed: int | None) -> dict[str, Any]:
        opts = {"num_predict": max_new_tokens, "temperature": temperature, **self.options}
        if seed is not None:
            opts["seed"] = seed
        return opts

    async def _one(
        self,
        messages: Sequence[Message],
        max_new_tokens: int,
        temperature: float,
        seed: int | None,
        sink: PartialSink | None = None,
    ) -> tuple[str, str]:
        client = self._get_client()
        options = self._options(max_new_tokens, temperature, seed)
        try:
            if sink is not None:
                return await self._streamed(client, messages, options, sink)
            resp = await client.chat(model=self.name, messages=list(messages), options=options)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise self._error(exc) from None
        return resp.message.content or "", resp.done_reason or "stop"

    async def _streamed(
        self,
        client: Any,
        messages: Sequence[Message],
        options: dict[str, Any],
        sink: PartialSink,
    ) -> tuple[str, str]:
        """One answer read piece by piece (Ollama's NDJSON stream), each piece reported."""
        parts: list[str] = []
        reason = "stop"
        stream = await client.chat(
            model=self.name, messages=list(messages), options=options, stream=True
        )
        async for chunk in stream:
            piece = chunk.message.content if chunk.message is not None else None
            if piece:
                parts.append(piece)
                report_partial(sink, "".join(parts))
            if chunk.done:
                reason = chunk.done_reason or "stop"
        return "".join(parts), reason

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
        sink = partial_sink.get()

        async def all_candidates() -> list[tuple[str, str]]:
            out = []
            for i in range(n):  # one request at a time: Ollama serialises them anyway
                temp = candidate_temperature(temperature, n)
                seed = i if n > 1 else None
                # the first candidate is the one shown growing; the others come whole
                out.append(
                    await self._one(messages, max_new_tokens, temp, seed, sink if i == 0 else None)
                )
            return out

        results = await until_cancelled(all_candidates(), cancel)
        return self._generation(messages, results)
