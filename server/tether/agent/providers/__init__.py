"""Model providers behind one async interface; each is imported only when used.

`make_provider("embedded:smollm2" | "ollama:NAME" | "litellm:PROVIDER/NAME" |
"replay:FILE", …)` builds one; importing this package pulls in no model library.
"""

from __future__ import annotations

from pathlib import Path

from tether.agent.providers.base import (
    AdapterRef,
    AdapterSource,
    Generation,
    GenerationCancelled,
    PartialSink,
    Provider,
    ProviderConfigError,
    ProviderError,
    ProviderUnavailable,
    partial_sink,
    streaming_to,
)
from tether.config import Settings


def make_provider(
    spec: str,
    settings: Settings,
    *,
    adapters: AdapterSource | None = None,
    workspace: Path | None = None,
) -> Provider:
    """A provider for a model string; raises ProviderConfigError for a bad one."""
    kind, sep, name = spec.partition(":")
    if not sep or not name:
        raise ProviderConfigError(
            f"model {spec!r}: use embedded:NAME, ollama:NAME, litellm:PROVIDER/NAME or replay:FILE"
        )
    if kind == "embedded":
        from tether.agent.providers.embedded import EmbeddedProvider

        return EmbeddedProvider(
            name,
            adapters=adapters,
            beta=settings.training.beta,
            idle_unload_seconds=settings.model_idle_unload_seconds,
        )
    if kind == "ollama":
        from tether.agent.providers.ollama import OllamaProvider

        return OllamaProvider(name, host=settings.ollama_host, timeout=settings.request_timeout)
    if kind == "litellm":
        from tether.agent.providers.litellm import LiteLLMProvider

        return LiteLLMProvider(name, timeout=settings.request_timeout)
    if kind == "replay":
        from tether.agent.providers.replay import ReplayProvider

        path = Path(name).expanduser()
        if not path.is_absolute() and workspace is not None and (workspace / path).is_file():
            path = workspace / path
        return ReplayProvider(path)
    raise ProviderConfigError(
        f"model {spec!r}: unknown kind {kind!r}; use embedded, ollama, litellm or replay"
    )


__all__ = [
    "AdapterRef",
    "AdapterSource",
    "Generation",
    "GenerationCancelled",
    "PartialSink",
    "Provider",
    "ProviderConfigError",
    "ProviderError",
    "ProviderUnavailable",
    "make_provider",
    "partial_sink",
    "streaming_to",
]
