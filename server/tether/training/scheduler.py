"""The maturity scheduler: train by itself when it is worth it and will not get in the way.

Every tick (default 5 minutes) it trains when the profile is mature (the profile knows
the user well enough that a model of them is worth having) and enough new labels arrived
since the last training; it holds off while the user is typing (the worker competes for
the CPU) and never starts a second run while one is going.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import math
import time
from collections.abc import Awaitable, Callable

from pydantic import BaseModel

from tether.config import Settings, TrainingSettings
from tether.training.manager import ProgressCallback, TrainingBusy, TrainingManager
from tether.training.models import TrainingResult

log = logging.getLogger(__name__)

MaturityProbe = Callable[[], bool | Awaitable[bool]]
TYPING = "the user is typing"


class TickDecision(BaseModel):
    train: bool
    reason: str
    new_labels: int = 0
    mature: bool = False
    seconds_since_typing: float = math.inf


class Scheduler:
    def __init__(
        self,
        manager: TrainingManager,
        settings: Settings | TrainingSettings,
        *,
        is_mature: MaturityProbe | None = None,
        on_progress: ProgressCallback | None = None,
        on_result: Callable[[TrainingResult], Awaitable[None] | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`is_mature`: the profile's maturity (e.g. `lambda: profile_store.profile.mature()`);
        without one the profile never counts as mature and only "Train now" trains."""
        self.manager = manager
        self.settings = settings.training if isinstance(settings, Settings) else settings
        self.is_mature = is_mature
        self.on_progress = on_progress
        self.on_result = on_result
        self.clock = clock
        self._last_typing: float | None = None
        self._task: asyncio.Task[TrainingResult | None] | None = None
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()

    # ------------------------------------------------------------------ inputs
    def note_typing(self) -> None:
        """Called on every document change."""
        self._last_typing = self.clock()

    def seconds_since_typing(self) -> float:
        return math.inf if self._last_typing is None else self.clock() - self._last_typing

    @property
    def running(self) -> bool:
        return self.manager.running or (self._task is not None and not self._task.done())

    # ------------------------------------------------------------------ decision
    def should_train(
        self, profile_mature: bool, new_labels: int, seconds_since_typing: float, running: bool
    ) -> tuple[bool, str]:
        s = self.settings
        if running:
            return False, "a training is already running"
        if not s.auto_schedule:
            return False, "automatic training is off (training.auto_schedule)"
        if not profile_mature:
            return False, "the profile is not mature yet"
        if new_labels < s.min_new_labels:
            return (
                False,
                f"{new_labels} new labels since the last training; {s.min_new_labels} needed",
            )
        if seconds_since_typing < s.typing_quiet_seconds:
            return False, TYPING
        return True, f"the profile is mature and {new_labels} new labels arrived"

    async def _mature(self) -> bool:
        if self.is_mature is None:
            return False
        value = self.is_mature()
        if inspect.isawaitable(value):
            value = await value
        return bool(value)

    async def tick(self) -> TickDecision:
        """Decide once; when it says train, the run starts in the background."""
        running = self.running
        mature = await self._mature()
        labels = await self.manager.new_labels() if mature and not running else 0
        quiet = self.seconds_since_typing()
        train, reason = self.should_train(mature, labels, quiet, running)
        if train:
            self._task = asyncio.create_task(self._train(), name="tether-scheduled-training")
        return TickDecision(
            train=train, reason=reason, new_labels=labels, mature=mature, seconds_since_typing=quiet
        )

    async def _train(self) -> TrainingResult | None:
        try:
            result = await self.manager.train_now(self.on_progress)
        except TrainingBusy as exc:  # a CLI run got there first
            log.info("scheduled training skipped: %s", exc)
            return None
        if self.on_result is not None:
            out = self.on_result(result)
            if inspect.isawaitable(out):
                await out
        return result

    # ------------------------------------------------------------------ loop
    async def run(self) -> None:
        """Tick until `stop()`; while the user types, look again as soon as they pause."""
        while not self._stop.is_set():
            try:
                decision = await self.tick()
            except Exception:
                log.exception("scheduler tick failed")
                decision = TickDecision(train=False, reason="error")
            if decision.reason == TYPING:
                wait = max(0.0, self.settings.typing_quiet_seconds - decision.seconds_since_typing)
                wait = min(wait + 0.05, self.settings.tick_seconds)
            else:
                wait = self.settings.tick_seconds
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    def poke(self) -> None:
        """Tick now instead of at the next interval (e.g. after a burst of decisions)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def wait_idle(self) -> TrainingResult | None:
        """Wait for a run this scheduler started (tests, shutdown)."""
        if self._task is None:
            return None
        return await self._task
