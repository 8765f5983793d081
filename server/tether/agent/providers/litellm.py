"""A cloud teacher (or any model litellm can reach): keys from the environment, retries.

litellm speaks to every provider with one call shape and has its own retry with backoff
(`num_retries`), so no retry loop lives here; this module only turns its exceptions into
messages that say what to set or do.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from typing import Any

from tether.agent.prompting import Message
from tether.agent.providers.base import (
    Generation,
    Provider,
    ProviderConfigError,
    ProviderError,
    ProviderUnavailable,
    candidate_temperature,
    until_cancelled,
)


def _litellm() -> Any:
    # The cost map is otherwise fetched from the internet at import: slow, and it leaks.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        import litellm
    except ImportError:
        raise ProviderConfigError(
            "cloud models need litellm: pip install 'tether[teacher]'"
        ) from None
    litellm.suppress_debug_info = True
    litellm.telemetry = False
    return litellm


class LiteLLMProvider(Provider):
    def __init__(
        self,
        name: str,
        *,
        timeout: float = 60.0,
        retries: int = 2,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.model_id = f"litellm:{name}"
        self.name = name
        self.timeout = timeout
        self.retries = retries
        self.extra = dict(extra or {})  # e.g. api_base; passed to litellm as is

    def _check_keys(self, litellm: Any) -> None:
        if "api_key" in self.extra or "mock_response" in self.extra:
            return
        try:
            env = litellm.validate_environment(self.name)
        except Exception:  # unknown provider: let the call itself report it
            return
        missing = [k for k in env.get("missing_keys", []) if k.endswith("API_KEY")]
        if missing:
            raise ProviderConfigError(
                f"{self.model_id} needs {', '.join(missing)} in the environment"
            )

    def _error(self, litellm: Any, exc: BaseException) -> ProviderError:
        e = litellm.exceptions
        if isinstance(exc, e.AuthenticationError | e.PermissionDeniedError):
            return ProviderConfigError(
                f"{self.model_id} refused the API key: check the key in the environment ({exc})"
            )
        if isinstance(exc, e.Timeout):
            return ProviderUnavailable(
                f"{self.model_id} did not answer within {self.timeout:g} s (after "
                f"{self.retries} retries); try again or raise request_timeout"
            )
        if isinstance(exc, e.RateLimitError):
            return ProviderUnavailable(f"{self.model_id} is rate-limiting requests; try later")
        if isinstance(
            exc, e.APIConnectionError | e.ServiceUnavailableError | e.InternalServerError
        ):
            return ProviderUnavailable(f"{self.model_id} cannot be reached: {exc}")
        if isinstance(exc, e.NotFoundError | e.BadRequestError):
            return ProviderConfigError(f"{self.model_id} rejected the request: {exc}")
        return ProviderError(f"{self.model_id} failed: {exc}")

    def _kwargs(self, max_new_tokens: int, temperature: float) -> dict[str, Any]:
        return {
            "model": self.name,
            "max_tokens": max_new_tokens,
            "temperature": temperature,
            "timeout": self.timeout,
            "num_retries": self.retries,
            **self.extra,
        }

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
        litellm = _litellm()
        self._check_keys(litellm)
        temp = candidate_temperature(temperature, n)

        async def one() -> tuple[str, str]:
            try:
                resp = await litellm.acompletion(
                    messages=list(messages), **self._kwargs(max_new_tokens, temp)
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                raise self._error(litellm, exc) from None
            choice = resp.choices[0]
            return choice.message.content or "", choice.finish_reason or "stop"

        async def all_candidates() -> list[tuple[str, str]]:
            # n separate requests: not every provider supports `n`, and they run concurrently
            return list(await asyncio.gather(*(one() for _ in range(n))))

        results = await until_cancelled(all_candidates(), cancel)
        return self._generation(messages, results)
