"""What memory hands the prompt: similar past decisions, lessons for the class, agreed rules.

These value types live in the core because both sides use them: `tether.memory` makes
them, `tether.agent` puts them in prompts. So is the one thing memory needs from a model,
`Generate`: memory never imports the agent's providers (the service hands it a function).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

#: A chat (role/content messages) and a token budget -> the model's answer text.
#: The service makes one from the teacher's provider; memory's teacher calls go through it.
Generate = Callable[[list[dict[str, str]], int], Awaitable[str]]

Verdict = Literal["accepted", "rejected", "corrected", "rewritten"]


class Exemplar(BaseModel):
    """A past proposal and what the user did with it."""

    id: str
    class_key: str | None = None
    path: str = ""
    task: str = ""
    language: str = "python"
    original: str  # the code the proposal was about
    proposed: str  # what the model proposed
    final: str | None = None  # what the user kept (accepted text, correction, rewrite)
    decision: Verdict
    feedback: str | None = None  # the user's reason, when given
    score: float = 0.0  # retrieval score for the current query

    @property
    def good(self) -> bool:
        """Whether `final` shows what the user wants (usable as a few-shot answer)."""
        return self.final is not None and self.decision in {"accepted", "corrected", "rewritten"}


class Reflection(BaseModel):
    """A lesson drawn from one rejection or correction, kept for its class."""

    id: str
    class_key: str | None = None
    text: str
    source: Literal["teacher", "diff"] = "diff"
    proposal_id: str | None = None


class Rule(BaseModel):
    """An insight: a short rule maintained by ADD/EDIT/AGREE/REMOVE, with its votes."""

    id: str
    class_key: str | None = None  # None: applies to every class
    text: str
    votes: int = 1


class MemoryContext(BaseModel):
    exemplars: list[Exemplar] = Field(default_factory=list)
    reflections: list[Reflection] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.exemplars or self.reflections or self.rules)


class MemorySource(Protocol):
    """What the agent needs from memory (tether.memory.Memory is one)."""

    store: Any  # the decision store memory reads (the agent's acceptance tracker reads it too)

    async def context(self, class_key: str, query: str, k: int = 3) -> MemoryContext: ...
