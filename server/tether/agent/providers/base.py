"""The one interface every model sits behind, and the errors a user can act on.

The agent must not care whether an answer comes from a model in this process, from
Ollama or from a cloud API; so each provider takes chat messages and returns the prompt
it actually used (needed verbatim for training) with n completions, honours the
same cancellation event, and (where the model can) reports its answer as it grows to the
request's `partial_sink`, so the editor can show it while the model writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from tether.agent.prompting import Message, render_chatml

T = TypeVar("T")
log = logging.getLogger("tether.agent.providers")

#: The active adapter: (version, directory), or None for the base model.
AdapterRef = tuple[str, Path]
AdapterSource = Callable[[], "AdapterRef | Awaitable[AdapterRef | None] | None"]


#: Receives the answer so far while a model generates: the whole text each time (of the
#: first candidate; a new generation starts again from nothing). Called from whichever
#: thread generates, so it must be thread-safe and quick (the editor layer only stores it).
PartialSink = Callable[[str], None]

#: Where the providers of the request being handled report their partial answer; None when
#: nobody watches. A context variable (like the request's work-done token), so the agent
#: and service between the editor and the model need not carry it: it follows the request's
#: task, its child tasks and, through `asyncio.to_thread`, the worker thread generating.
partial_sink: contextvars.ContextVar[PartialSink | None] = contextvars.ContextVar(
    "tether_partial_sink", default=None
)


@contextlib.contextmanager
def streaming_to(sink: PartialSink | None) -> Iterator[None]:
    """Report the partial answers of every generation inside the block to `sink`."""
    token = partial_sink.set(sink)
    try:
        yield
    finally:
        partial_sink.reset(token)


def report_partial(sink: PartialSink | None, text: str) -> None:
    """Give the sink the answer so far; a failing sink never stops the generation."""
    if sink is None:
        return
    try:
        sink(text.rstrip("\ufffd"))  # a character cut in half arrives with the next token
    except Exception:  # the watcher's problem, not the model's
        log.debug("partial answer sink failed", exc_info=True)


class ProviderError(RuntimeError):
    """A model could not answer; the message says what the user can do about it."""


class ProviderUnavailable(ProviderError):
    """The model's server or service cannot be reached."""


class ProviderConfigError(ProviderError):
    """The model string, a key or a file is wrong."""


class GenerationCancelled(Exception):
    """The caller's cancel event fired before the model finished."""


class Generation(BaseModel):
    prompt: str  # exactly what the model was given, chat template applied
    completions: list[str]
    finish_reasons: list[str] = Field(default_factory=list)  # stop | length | …
    model: str
    adapter_version: str | None = None
    # the kind of change each completion is, when the provider knows it (recorded answers
    # in benchmarks); empty: the agent reads the kind off the change itself
    kinds: list[str] = Field(default_factory=list)


#: Several candidates from one prompt need some sampling spread to differ at all.
MIN_CANDIDATE_TEMPERATURE = 0.3


def candidate_temperature(temperature: float, n: int) -> float:
    """The temperature to sample with when asking for n candidates."""
    return temperature if n == 1 else max(temperature, MIN_CANDIDATE_TEMPERATURE)


class Provider(ABC):
    """Base of all providers; `model_id` is what proposals record (e.g. `ollama:qwen2.5`)."""

    model_id: str = ""

    def _generation(
        self, messages: Sequence[Message], results: Sequence[tuple[str, str]]
    ) -> Generation:
        """A Generation from (completion, finish reason) pairs of a remote provider."""
        return Generation(
            prompt=self.render_prompt(messages),
            completions=[r[0] for r in results],
            finish_reasons=[r[1] for r in results],
            model=self.model_id,
        )

    @abstractmethod
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
        """n completions for the messages; raises ProviderError or GenerationCancelled.

        `hints` (task, path) are for providers that need them (replay); others ignore them.
        """

    def render_prompt(self, messages: Sequence[Message]) -> str:
        return render_chatml(messages)

    async def rewards(self, messages: Sequence[Message], completions: Sequence[str]) -> list[float]:
        """The active adapter's implicit reward for each completion, to rerank candidates.

        Empty when this provider has no trained adapter to ask (every remote provider, and
        the embedded one before its first promotion): the model's own order then stands.
        """
        return []

    async def aclose(self) -> None:  # noqa: B027  (optional hook; most hold nothing)
        """Release what the provider holds (connections, the model)."""


async def until_cancelled(coro: Coroutine[Any, Any, T], cancel: asyncio.Event | None) -> T:
    """Await `coro`, abandoning it (and raising GenerationCancelled) if `cancel` fires."""
    if cancel is None:
        return await coro
    if cancel.is_set():
        coro.close()
        raise GenerationCancelled()
    work = asyncio.ensure_future(coro)
    stop = asyncio.ensure_future(cancel.wait())
    try:
        done, _ = await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        work.cancel()
        stop.cancel()
        raise
    if work in done:
        stop.cancel()
        return work.result()
    work.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await work
    raise GenerationCancelled()


async def resolve_adapter(source: AdapterSource | None) -> AdapterRef | None:
    """Call the adapter source, which may be sync or async."""
    if source is None:
        return None
    ref = source()
    if inspect.isawaitable(ref):
        ref = await ref
    if ref is None:
        return None
    version, path = ref
    return str(version), Path(path)
