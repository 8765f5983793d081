"""Training control: status, train now, cancel, and the scheduler that trains by itself
when the profile is mature and enough new labels came in."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from tether.service.components import Components
from tether.service.context import Context
from tether.service.errors import TrainingBusy


class TrainingControl:
    def __init__(self, ctx: Context, components: Components) -> None:
        self.ctx = ctx
        self.components = components
        self.task: asyncio.Task[Any] | None = None
        self.scheduler: Any = None
        self.scheduler_task: asyncio.Task[None] | None = None

    def status(self) -> dict[str, Any]:
        if self.components.manager is None:
            try:
                return self.components.training().status().model_dump(mode="json")
            except ImportError:
                return {"state": "unavailable", "message": "training is not installed"}
        return self.components.manager.status().model_dump(mode="json")  # type: ignore[no-any-return]

    def running(self) -> bool:
        mine = self.task is not None and not self.task.done()
        manager = self.components.manager
        return mine or bool(manager is not None and manager.running)

    def start(self, on_progress: Callable[[Any], None] | None = None) -> asyncio.Task[Any]:
        """Start `train_now` in the background; TrainingBusy when a run is already going."""
        if self.running():
            raise TrainingBusy("training is already running; cancel it or wait for it to end")
        self.components.training()  # fail now (ImportError) rather than inside the task
        self.task = asyncio.get_running_loop().create_task(self.train_now(on_progress))
        return self.task

    async def train_now(self, on_progress: Callable[[Any], None] | None = None) -> Any:
        """Train an adapter now; progress goes to `on_progress` and the training status."""
        from tether.training import TrainingBusy as ManagerBusy

        manager = self.components.training()
        events = self.ctx.events

        def progress(event: Any) -> None:
            if on_progress is not None:
                on_progress(event)
            events.training_status(manager.status().model_dump(mode="json"))

        events.training_status(manager.status().model_dump(mode="json"))
        try:
            return await manager.train_now(progress)
        except ManagerBusy as exc:
            raise TrainingBusy(str(exc)) from None
        finally:
            events.training_status(manager.status().model_dump(mode="json"))

    def start_scheduler(self) -> None:
        """Train by itself when the profile is mature and enough new labels came in.

        Only long-running front ends (the language server) start it; it holds off while
        the user types, and `training.auto_schedule = false` turns it off.
        """
        if self.scheduler is not None:
            return
        from tether.training import Scheduler

        manager = self.components.training()

        async def mature() -> bool:
            return (await self.components.profile_store()).profile.mature()

        def status(*_: Any) -> None:
            self.ctx.events.training_status(manager.status().model_dump(mode="json"))

        self.scheduler = Scheduler(
            manager, self.ctx.settings, is_mature=mature, on_progress=status, on_result=status
        )
        # not background work: it runs until close, and idle() waits for background work
        self.scheduler_task = asyncio.get_running_loop().create_task(self.scheduler.run())

    def matured(self) -> None:
        """The profile just matured: the scheduler looks whether to train now."""
        if self.scheduler is not None:
            self.scheduler.poke()

    def typing(self) -> None:
        if self.scheduler is not None:
            self.scheduler.note_typing()

    def settings_changed(self) -> None:
        if self.components.manager is not None:
            self.components.manager.settings = self.ctx.settings.training
        if self.scheduler is not None:
            self.scheduler.settings = self.ctx.settings.training

    async def cancel(self) -> bool:
        if self.components.manager is None:
            return False
        return bool(await self.components.manager.cancel())

    async def stop_scheduler(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.scheduler_task is not None:  # its loop holds no state worth waiting for
            self.scheduler_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.scheduler_task
