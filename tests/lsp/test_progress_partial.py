"""`PartialAnswers`: a model's partial answers become progress reports without flooding the
editor, from any thread, and nothing is sent once the request is over."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from tether.lsp.progress import MAX_PARTIAL_CHARS, PartialAnswers, partial_message


class Bar:
    """Stands in for a WorkDone bar: records what would go to the editor."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def report(self, message: str | None = None, **_: Any) -> None:
        assert message is not None
        self.messages.append(message)


async def _settle() -> None:
    """Let the loop run the callbacks already scheduled (no timers involved)."""
    for _ in range(3):
        await asyncio.sleep(0)


async def test_a_burst_is_one_report_then_the_latest_on_flush() -> None:
    bar = Bar()
    partial = PartialAnswers(bar, interval=3600)  # nothing is due again during the test
    for i in range(1, 101):  # a model writing 100 tokens at once
        partial("x" * i)
    await _settle()
    assert bar.messages == ["x" * 100]  # the first report goes at once, with the latest text
    for i in range(101, 201):
        partial("x" * i)
    await _settle()
    assert len(bar.messages) == 1  # rate-limited: the rest waits
    partial.flush()
    assert bar.messages == ["x" * 100, "x" * 200]
    partial.flush()  # nothing new: nothing sent
    assert len(bar.messages) == 2


async def test_reports_from_the_generating_thread_and_none_after_close() -> None:
    bar = Bar()
    partial = PartialAnswers(bar, interval=3600)
    worker = threading.Thread(target=lambda: [partial(f"line {i}") for i in range(50)])
    worker.start()
    await asyncio.to_thread(worker.join)
    await _settle()
    assert bar.messages and bar.messages[0].startswith("line ")
    partial.close()
    partial("after the end")  # a generation still finishing after the request ended
    partial.flush()
    await _settle()
    assert "after the end" not in bar.messages


async def test_blank_text_is_not_reported_and_long_text_keeps_its_end() -> None:
    bar = Bar()
    partial = PartialAnswers(bar, interval=3600)
    partial("\n  \n")
    await _settle()
    assert bar.messages == []
    long = "a" * MAX_PARTIAL_CHARS + "the end"
    assert partial_message(long).startswith("…") and partial_message(long).endswith("the end")
    assert len(partial_message(long)) == MAX_PARTIAL_CHARS
