"""What memory hands the prompt: similar past decisions, lessons for the class, agreed rules."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

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
