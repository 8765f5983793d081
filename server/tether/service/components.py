"""The lazily built parts of a workspace's service: agent spec, profile, memory, agent and
training manager. Each is made on first use (nothing heavy loads while the editor starts)
and rebuilt only when what it depends on changes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tether.agent import AgentSpec, SpecError, TaskSpec, load_spec
from tether.profile.store import ProfileStore
from tether.service.context import Context

if TYPE_CHECKING:
    from tether.agent import Agent, Provider
    from tether.core.memory import Generate
    from tether.memory import Memory
    from tether.training import TrainingManager

log = logging.getLogger("tether.service")


def teacher_generate(provider: Provider) -> Generate:
    """A provider as memory's plain `generate` function: its one answer ('' when none)."""

    async def generate(messages: list[dict[str, str]], max_new_tokens: int) -> str:
        gen = await provider.generate(messages, n=1, max_new_tokens=max_new_tokens)
        return gen.completions[0] if gen.completions else ""

    return generate


class Components:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.profile: ProfileStore | None = None
        self.memory_: Memory | None = None
        self.agent_: Any = None
        self.agent_key: tuple[Any, ...] | None = None
        self.agent_pinned = False
        self.manager: Any = None  # the TrainingManager, once training is used
        self._spec: AgentSpec | None = None
        self._spec_key: tuple[Any, ...] | None = None
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, name: str) -> asyncio.Lock:
        return self._locks.setdefault(name, asyncio.Lock())

    def spec(self) -> AgentSpec:
        """The agent spec, re-read when its files change (SpecError if invalid)."""
        workspace = self.ctx.workspace
        key = tuple(
            (p.stat().st_mtime_ns, p.stat().st_size) if p.is_file() else None
            for p in (workspace / ".tether" / "agent.md", workspace / "tether.toml")
        )
        if self._spec is None or self._spec_key != key:
            self._spec = load_spec(workspace)
            self._spec_key = key
        return self._spec

    def tasks(self) -> list[TaskSpec]:
        try:
            return list(self.spec().tasks)
        except SpecError as exc:
            log.warning("agent spec: %s", exc)
            return []

    async def profile_store(self) -> ProfileStore:
        async with self._lock("profile"):
            if self.profile is None:
                self.profile = await ProfileStore.load(self.ctx.store, self.ctx.settings)
            return self.profile

    async def memory(self) -> Memory:
        async with self._lock("memory"):
            if self.memory_ is None:
                from tether.memory import Memory

                settings = self.ctx.settings
                teacher = None
                if settings.teacher:  # reflections by the teacher, when one is configured
                    from tether.agent import make_provider

                    teacher = make_provider(
                        settings.teacher, settings, workspace=self.ctx.workspace
                    )
                redact: tuple[str, ...] = ()
                with contextlib.suppress(SpecError):
                    redact = tuple(self.spec().boundaries.redact)
                self.memory_ = Memory(
                    self.ctx.store,
                    generate=teacher_generate(teacher) if teacher is not None else None,
                    redact_patterns=redact,
                )
            return self.memory_

    def use_agent(self, agent: Agent) -> None:
        """Use this agent from now on, whatever the settings say (benchmarks, tests)."""
        self.agent_ = agent
        self.agent_key = None
        self.agent_pinned = True

    async def agent(self) -> Agent:
        """The workspace's agent; rebuilt only when the models or the spec change, so a
        loaded model survives unrelated settings changes."""
        if self.agent_pinned:
            return self.agent_  # type: ignore[no-any-return]
        spec = self.spec()
        s = self.ctx.settings
        async with self._lock("agent"):
            key = (s.model, s.teacher, s.ollama_host, self._spec_key)
            if self.agent_ is not None and self.agent_key == key:
                self.agent_.settings = s
                return self.agent_  # type: ignore[no-any-return]
            if self.agent_ is not None:
                with contextlib.suppress(Exception):
                    await self.agent_.close()
            from tether.agent import Agent

            self.agent_ = Agent(
                s, spec, await self.memory(), self.ctx.workspace, adapters=self._active_adapter
            )
            self.agent_key = key
            return self.agent_  # type: ignore[no-any-return]

    async def _active_adapter(self) -> tuple[str, Path] | None:
        """The student uses the active adapter, looked up on each proposal."""
        row = await self.ctx.store.active_adapter()
        return (row.version, Path(row.path)) if row is not None else None

    def training(self) -> TrainingManager:
        if self.manager is None:
            from tether.training import TrainingManager

            self.manager = TrainingManager(
                self.ctx.store, self.ctx.paths, self.ctx.settings, base_model=self._training_base()
            )
        return self.manager  # type: ignore[no-any-return]

    def _training_base(self) -> Path | None:
        """Adapters are trained for the model the student runs: `training.base_model`, or
        the folder of an `embedded:/path` student; None means the embedded SmolLM2."""
        settings = self.ctx.settings
        if settings.training.base_model is not None:
            return settings.training.base_model.expanduser()
        kind, _, name = settings.model.partition(":")
        folder = Path(name).expanduser()
        return folder if kind == "embedded" and folder.is_dir() else None

    async def close(self) -> None:
        if self.manager is not None and hasattr(self.manager, "cancel"):
            with contextlib.suppress(Exception):
                await self.manager.cancel()
        if self.agent_ is not None:
            with contextlib.suppress(Exception):
                await self.agent_.close()
