"""The HTTP API's request and response bodies (the API's boundary)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tether.core.types import Range


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class ChatRequest(BaseModel):
    """OpenAI's chat completions request; fields Tether does not use are accepted and ignored."""

    model: str = "tether"
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1, le=4096)
    max_completion_tokens: int | None = Field(None, ge=1, le=4096)
    temperature: float | None = Field(None, ge=0, le=2)
    n: int = Field(1, ge=1, le=8)
    stream: bool = False


class ProposeRequest(_Body):
    """Code (or a file of the workspace) and what to do with it.

    `code` alone: the snippet is the document (named `path`, default `snippet.py`).
    `path` alone: that file of the workspace, read from disk. `range`: the part to change
    (default: all of it). `task`: a task of the agent spec (default `improve`), and/or
    `instruction`: the user's own words.
    """

    code: str | None = None
    path: str | None = None
    language: str | None = None
    range: Range | None = None
    task: str = "improve"
    instruction: str = ""


class ProposalOut(BaseModel):
    id: str
    path: str
    range: Range
    task: str
    kind: str
    class_key: str
    original: str
    proposed: str
    rationale: str
    model: str
    adapter_version: str | None
    mode: str  # ask | auto | quiet: what the profile would do in the editor
    reason: str  # why


class ProposeResponse(BaseModel):
    proposals: list[ProposalOut]
    failures: list[str] = Field(default_factory=list)


class DecisionRequest(_Body):
    proposal_id: str = Field(min_length=1)
    decision: Literal["accept", "reject", "correct"]
    text: str | None = None  # the corrected text, for "correct"
    reason: str | None = None


class DecisionResponse(BaseModel):
    seq: int
    proposal_id: str
    outcome: str
    review: str  # "pending": a user reviews it before it teaches anything
    token_id: str


class ErrorBody(BaseModel):
    error: dict[str, Any]
