"""Recorded model outputs played back: FOR TESTS AND BENCHMARKS ONLY.

`replay:FILE` reads a JSONL file, one recorded answer per line:

    {"completion": "Use an f-string.\\n```python\\n...\\n```"}
    {"task": "fix", "path": "src/report.py", "completion": "..."}
    {"completions": ["...", "..."]}          # several candidates for one request

A line with `task` and/or `path` only answers requests for that task/path; lines without
them answer anything. Lines are used in file order and wrap around, so a benchmark can
replay a fixed sequence deterministically through the whole agent (prompting, parsing,
boundaries, classes) with no model at all. It never learns and never reads the prompt:
it exists so tests and benchmarks can exercise everything around the model. Like a
streaming model, it reports its first answer line by line to the request's partial-answer
sink (when there is one), so the path to the editor's progress display runs in tests too.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError, model_validator

from tether.agent.prompting import Message
from tether.agent.providers.base import (
    Generation,
    GenerationCancelled,
    Provider,
    ProviderConfigError,
    ProviderError,
    partial_sink,
    report_partial,
)


class ReplayEntry(BaseModel):
    completion: str | None = None
    completions: list[str] | None = None
    task: str | None = None
    path: str | None = None
    finish_reason: str = "stop"
    kind: str = ""  # the kind of change the recorded answer is (benchmarks' streams)

    @model_validator(mode="after")
    def _one_kind(self) -> ReplayEntry:
        if (self.completion is None) == (self.completions is None):
            raise ValueError("give exactly one of completion or completions")
        return self

    def texts(self) -> list[str]:
        return [self.completion] if self.completion is not None else list(self.completions or [])

    def answers(self, task: str | None, path: str | None) -> bool:
        return (self.task is None or self.task == task) and (self.path is None or self.path == path)


def read_replay(path: Path) -> list[ReplayEntry]:
    if not path.is_file():
        raise ProviderConfigError(f"replay file {path} does not exist")
    entries: list[ReplayEntry] = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(ReplayEntry.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise ProviderConfigError(f"{path}:{i}: not a replay entry: {exc}") from None
    if not entries:
        raise ProviderConfigError(f"replay file {path} has no entries")
    return entries


class ReplayProvider(Provider):
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.model_id = f"replay:{self.path.name}"
        self._entries: list[ReplayEntry] | None = None
        self._cursor: dict[tuple[str | None, str | None], int] = {}
        self.requests: list[list[Message]] = []  # what was asked, for tests to inspect

    def _matching(self, task: str | None, path: str | None) -> list[ReplayEntry]:
        if self._entries is None:
            self._entries = read_replay(self.path)
        keyed = [e for e in self._entries if (e.task or e.path) and e.answers(task, path)]
        return keyed or [e for e in self._entries if not (e.task or e.path)]

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
        hints = hints or {}
        task, path = hints.get("task"), hints.get("path")
        entries = self._matching(task, path)
        if not entries:
            raise ProviderError(f"{self.path} has no recorded answer for task {task!r} on {path!r}")
        self.requests.append([dict(m) for m in messages])
        key = (task, path)
        texts: list[str] = []
        reasons: list[str] = []
        kinds: list[str] = []
        while len(texts) < n:
            entry = entries[self._cursor.get(key, 0) % len(entries)]
            self._cursor[key] = self._cursor.get(key, 0) + 1
            for text in entry.texts():
                texts.append(text)
                reasons.append(entry.finish_reason)
                kinds.append(entry.kind)
        sink = partial_sink.get()
        if sink is not None and texts:
            lines = texts[0].splitlines(keepends=True)
            for i in range(1, len(lines) + 1):
                report_partial(sink, "".join(lines[:i]))
                await asyncio.sleep(0)  # a stream yields between pieces; the editor may run
        return Generation(
            prompt=self.render_prompt(messages),
            completions=texts[:n],
            finish_reasons=reasons[:n],
            model=self.model_id,
            kinds=kinds[:n] if any(kinds) else [],
        )
