"""The in-process model: transformers + the active LoRA adapter, used the moment it is trained.

The model loads lazily, once, on first use; generation runs in a worker thread so the
event loop (and with it the language server) stays responsive. Before each generation the
provider asks which adapter is active and, when the version changed, loads it into the
same base model with peft: an adapter swap needs no restart and no second copy of the
base weights.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import re
import sys
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tether.agent.prompting import Message, render_chatml
from tether.agent.providers.base import (
    AdapterRef,
    AdapterSource,
    Generation,
    GenerationCancelled,
    PartialSink,
    Provider,
    ProviderConfigError,
    ProviderError,
    candidate_temperature,
    partial_sink,
    report_partial,
    resolve_adapter,
)

log = logging.getLogger("tether.agent.embedded")

#: A complete fenced block: the answer we asked for is over once one is closed. Stopping
#: there saves tokens (minutes on a busy CPU) and the extra blocks small models ramble on.
_CLOSED_BLOCK = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n(?:[\s\S]*?\n)?[ \t]*\1[ \t]*\n", re.M)

Loader = Callable[[], tuple[Any, Any]]

#: Providers alive in this process, for `loaded_models()` (the server's status).
_PROVIDERS: weakref.WeakSet[EmbeddedProvider] = weakref.WeakSet()
#: Called with True/False when a model loads/unloads (the server records it for doctor).
STATE_LISTENERS: list[Callable[[bool], None]] = []


def loaded_models() -> list[dict[str, Any]]:
    """Every embedded provider of this process: loaded or not, busy, idle time, unloads."""
    return [p.memory_state() for p in list(_PROVIDERS)]


def _release_memory() -> None:
    """Hand freed heap back to the OS: glibc keeps it for reuse otherwise, so the process
    would go on looking as large as with the model loaded."""
    import gc

    gc.collect()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


def cpu_threads() -> int:
    """Threads for CPU inference: half the cores, unless the user set OMP/TETHER threads.

    A 135M model's decoding is memory-bound, so extra threads buy little; on a busy machine
    (an editor, tests, a training run) torch's default of one thread per core made
    generation about eight times slower than one thread, as the threads wait on each other.
    """
    for var in ("TETHER_TORCH_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return max(1, (os.cpu_count() or 2) // 2)


def _limit_threads() -> None:
    import torch

    torch.set_num_threads(cpu_threads())


def _default_loader(name: str, device: str | None) -> Loader:
    def load_embedded() -> tuple[Any, Any]:
        from tether.embedded import EmbeddedModelMissing, load_model_and_tokenizer

        try:
            return load_model_and_tokenizer(device)
        except EmbeddedModelMissing as exc:
            raise ProviderConfigError(str(exc)) from None

    def load_directory() -> tuple[Any, Any]:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from tether.embedded import pick_device

        tokenizer = AutoTokenizer.from_pretrained(name)
        model = AutoModelForCausalLM.from_pretrained(name)
        model.to(device or pick_device())
        model.eval()
        return model, tokenizer

    if name == "smollm2":
        return load_embedded
    if Path(name).expanduser().is_dir():
        name = str(Path(name).expanduser())
        return load_directory
    raise ProviderConfigError(
        f"unknown embedded model {name!r}: use embedded:smollm2 or embedded:/path/to/model-dir"
    )


class EmbeddedProvider(Provider):
    def __init__(
        self,
        name: str = "smollm2",
        *,
        adapters: AdapterSource | None = None,
        loader: Loader | None = None,
        device: str | None = None,
        beta: float = 0.1,
        idle_unload_seconds: float = 0.0,
    ) -> None:
        """`idle_unload_seconds`: drop the model after this long unused (0: keep it)."""
        self.model_id = f"embedded:{name}"
        self.beta = beta  # DPO's beta, so rewards are on the scale training and the gate use
        self._loader = loader or _default_loader(name, device)
        self._adapters = adapters
        self._model: Any = None
        self._tokenizer: Any = None
        self._active: str | None = None  # adapter version loaded and selected in the model
        self._failed: set[str] = set()  # adapter versions that would not load
        self._load_lock = asyncio.Lock()
        self._run_lock = threading.Lock()  # one forward pass at a time on the shared model
        self.base_loads = 0  # how many times the base weights were read (tests check swaps)
        self.idle_unload_seconds = idle_unload_seconds
        self.unloads = 0
        self.load_seconds: float | None = None  # the latest load's (what an unload costs)
        self.last_used = time.monotonic()
        self._users = 0  # calls between loading the model and being done with it
        self._idle_timer: asyncio.TimerHandle | None = None
        _PROVIDERS.add(self)

    # ------------------------------------------------------------------ lifetime
    @asynccontextmanager
    async def _in_use(self) -> AsyncIterator[None]:
        """Hold the model loaded for one call; the idle clock starts when the last ends."""
        self._users += 1
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        try:
            yield
        finally:
            self._users -= 1
            self.last_used = time.monotonic()
            if self._users == 0 and self._model is not None and self.idle_unload_seconds > 0:
                self._idle_timer = asyncio.get_running_loop().call_later(
                    self.idle_unload_seconds, self.unload
                )

    def unload(self) -> bool:
        """Drop the model (and the adapter in it) when nobody is using it; it loads again
        on the next call. True when something was unloaded."""
        if self._idle_timer is not None:  # called by hand: the pending timer is moot
            self._idle_timer.cancel()
            self._idle_timer = None
        if self._users or self._model is None or self._load_lock.locked():
            return False
        self._model = None
        self._tokenizer = None
        self._active = None
        self._failed.clear()
        self.unloads += 1
        _release_memory()
        log.info("model %s unloaded after %.0f s idle", self.model_id, self.idle_unload_seconds)
        _notify(False)
        return True

    def memory_state(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "loaded": self._model is not None,
            "busy": self._users > 0,
            "idleSeconds": round(time.monotonic() - self.last_used, 1),
            "idleUnloadSeconds": self.idle_unload_seconds,
            "loads": self.base_loads,
            "loadSeconds": self.load_seconds,
            "unloads": self.unloads,
            "adapter": self._active,
        }

    # ------------------------------------------------------------------ loading
    async def _ensure_loaded(self) -> None:
        if self._model is not None:
            return
        async with self._load_lock:
            if self._model is not None:
                return
            started = time.perf_counter()
            try:
                await asyncio.to_thread(_limit_threads)
                model, tokenizer = await asyncio.to_thread(self._loader)
            except ProviderError:
                raise
            except ImportError as exc:
                raise ProviderConfigError(
                    f"the embedded model needs torch and transformers ({exc}); install them "
                    "with: pip install 'tether[train]'"
                ) from None
            self._model, self._tokenizer = model, tokenizer
            self.base_loads += 1
            self.load_seconds = round(time.perf_counter() - started, 3)
            _notify(True)

    def _sync_adapter(self, want: AdapterRef | None) -> str | None:
        """Make the wanted adapter the active one (in the worker thread); returns its version."""
        if want is None:
            return None
        version, path = want
        if version == self._active:
            return version
        if version in self._failed:
            return self._active
        try:
            from peft import PeftModel

            if isinstance(self._model, PeftModel):
                self._model.load_adapter(str(path), adapter_name=version, is_trainable=False)
                self._model.set_adapter(version)
                previous = self._active
                if previous is not None and previous in self._model.peft_config:
                    self._model.delete_adapter(previous)
            else:
                self._model = PeftModel.from_pretrained(
                    self._model, str(path), adapter_name=version, is_trainable=False
                )
            self._model.eval()
        except Exception as exc:  # a broken adapter must not stop proposals
            log.error(
                "adapter %s at %s would not load (%s); using the base model", version, path, exc
            )
            self._failed.add(version)
            return self._active
        self._active = version
        log.info("adapter %s is now active", version)
        return version

    def _is_peft(self) -> bool:
        return self._active is not None or type(self._model).__name__.startswith("Peft")

    # ------------------------------------------------------------------ prompting
    def render_prompt(self, messages: Sequence[Message]) -> str:
        tok = self._tokenizer
        if tok is not None and getattr(tok, "chat_template", None):
            return tok.apply_chat_template(
                list(messages), tokenize=False, add_generation_prompt=True
            )
        return render_chatml(messages)

    # ------------------------------------------------------------------ generation
    def _run(
        self,
        prompt: str,
        n: int,
        max_new_tokens: int,
        temperature: float,
        stop: threading.Event,
        want: AdapterRef | None,
        sink: PartialSink | None = None,
    ) -> tuple[list[str], list[str], str | None]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        class _Stop(StoppingCriteria):
            """Stop on cancel, or (per row) once the answer's code block is closed.

            Called after every new token with every row so far, and it decodes them anyway:
            so it is also where the first candidate's answer so far goes to the sink (a
            separate transformers streamer would decode each token a second time, and
            TextIteratorStreamer takes one row only, where candidates are several).
            """

            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                if stop.is_set():
                    return torch.ones(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
                texts = tok.batch_decode(input_ids[:, prompt_len:], skip_special_tokens=True)
                report_partial(sink, texts[0])
                done = [_CLOSED_BLOCK.search(t) is not None for t in texts]
                return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

        with self._run_lock:
            version = self._sync_adapter(want)
            model, tok = self._model, self._tokenizer
            inputs = tok(prompt, return_tensors="pt", add_special_tokens=False).to(model.device)
            limit = getattr(model.config, "max_position_embeddings", None)
            prompt_len = int(inputs["input_ids"].shape[1])
            if limit and prompt_len + max_new_tokens > limit:
                raise ProviderError(
                    f"the prompt is {prompt_len} tokens; with {max_new_tokens} new tokens it "
                    f"exceeds the model's {limit}: select fewer lines or lower context_lines"
                )
            eos = tok.eos_token_id
            kwargs: dict[str, Any] = {
                "max_new_tokens": max_new_tokens,
                "num_return_sequences": n,
                "pad_token_id": tok.pad_token_id if tok.pad_token_id is not None else eos,
                "eos_token_id": eos,
                "stopping_criteria": StoppingCriteriaList([_Stop()]),
            }
            if n > 1:  # several candidates only differ when sampled
                kwargs.update(
                    do_sample=True, temperature=candidate_temperature(temperature, n), top_p=0.95
                )
            else:  # one candidate: the model's most likely answer, reproducibly
                kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
            adapter_off = (
                model.disable_adapter()
                if version is None and self._is_peft() and hasattr(model, "disable_adapter")
                else contextlib.nullcontext()
            )
            with torch.inference_mode(), adapter_off:
                out = model.generate(**inputs, **kwargs)
            new = out[:, prompt_len:]
            texts = tok.batch_decode(new, skip_special_tokens=True)
            reasons = []
            for row, text in zip(new.tolist(), texts, strict=True):
                if stop.is_set():
                    reasons.append("cancelled")
                elif eos in row or _CLOSED_BLOCK.search(text):
                    reasons.append("stop")
                else:
                    reasons.append("length")
            return texts, reasons, version

    async def _guarded(
        self, fn: Callable[[], Any], stop: threading.Event, cancel: asyncio.Event | None
    ) -> Any:
        """Run `fn` in a thread; the cancel event (or task cancellation) stops generation."""
        watcher: asyncio.Task[Any] | None = None
        if cancel is not None:

            async def watch() -> None:
                await cancel.wait()
                stop.set()

            watcher = asyncio.create_task(watch())
        try:
            return await asyncio.to_thread(fn)
        except asyncio.CancelledError:
            stop.set()
            raise
        finally:
            if watcher is not None:
                watcher.cancel()

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
        if cancel is not None and cancel.is_set():
            raise GenerationCancelled()
        async with self._in_use():
            await self._ensure_loaded()
            want = await resolve_adapter(self._adapters)
            prompt = self.render_prompt(messages)
            stop = threading.Event()
            sink = partial_sink.get()
            texts, reasons, version = await self._guarded(
                lambda: self._run(prompt, n, max_new_tokens, temperature, stop, want, sink),
                stop,
                cancel,
            )
        if stop.is_set():
            raise GenerationCancelled()
        return Generation(
            prompt=prompt,
            completions=texts,
            finish_reasons=reasons,
            model=self.model_id,
            adapter_version=version,
        )

    # ------------------------------------------------------------------ scoring
    def _rewards(
        self, prompt: str, completions: Sequence[str], want: AdapterRef | None
    ) -> list[float]:
        from tether.training.scoring import AdapterModel, rerank

        with self._run_lock:
            version = self._sync_adapter(want)
            if version is None or not completions:
                return []
            model = AdapterModel(self._model, self._tokenizer, adapter=version, beta=self.beta)
            return rerank(prompt, completions, model)

    async def rewards(self, messages: Sequence[Message], completions: Sequence[str]) -> list[float]:
        """beta * (log p_adapter(y|x) - log p_base(y|x)) per completion, DPO's implicit reward.

        It is the quantity DPO trained to rank the user's choice first and the one the eval
        gate measured on held-out decisions, scored the same way (`training.scoring`), so
        the reranker orders candidates by exactly what the promoted adapter was judged on.
        """
        async with self._in_use():
            await self._ensure_loaded()
            want = await resolve_adapter(self._adapters)
            prompt = self.render_prompt(messages)
            return await asyncio.to_thread(self._rewards, prompt, completions, want)

    @property
    def adapter_version(self) -> str | None:
        return self._active

    async def aclose(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        loaded = self._model is not None
        self._model = None
        self._tokenizer = None
        self._active = None
        if loaded:
            _notify(False)


def _notify(loaded: bool) -> None:
    for listener in list(STATE_LISTENERS):
        with contextlib.suppress(Exception):
            listener(loaded)
