"""Background work of one service: started, watched for failure, waited for at close."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from tether.service.context import Context

log = logging.getLogger("tether.service")


class Background:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Awaitable[Any], what: str, *, quiet: bool = False) -> asyncio.Task[Any]:
        """Background work; failures are logged, and shown unless `quiet` (memory only
        helps: the decision it learns from is already in the log)."""

        async def run() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("%s failed", what)
                if not quiet:
                    self.ctx.events.problem(f"{what} failed: {exc}")

        task = asyncio.get_running_loop().create_task(run())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def idle(self) -> None:
        """Wait for background recording to finish (tests and benchmarks)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def close(self, grace: float) -> None:
        """Let recording finish for up to `grace` seconds; stopped work ends at once."""
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=grace)
        for task in list(self.tasks):
            task.cancel()
