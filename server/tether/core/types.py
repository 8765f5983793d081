"""The vocabulary every core module speaks: positions, hunks, proposals, outcomes.

Positions follow LSP semantics (zero-based line, UTF-16 code units) so a proposal can
travel to any editor unchanged; `tether.core.text` converts them to string offsets.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> str:
    """ISO-8601 UTC timestamp with microseconds; sortable as text."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def new_id() -> str:
    return uuid.uuid4().hex


class Position(BaseModel):
    model_config = ConfigDict(frozen=True)
    line: int = Field(ge=0)
    character: int = Field(ge=0)


class Range(BaseModel):
    model_config = ConfigDict(frozen=True)
    start: Position
    end: Position

    @classmethod
    def of(cls, sl: int, sc: int, el: int, ec: int) -> Range:
        return cls(start=Position(line=sl, character=sc), end=Position(line=el, character=ec))


class Hunk(BaseModel):
    """One contiguous change inside a proposal; accepted or rejected on its own."""

    index: int
    range: Range  # in the document as it was when the proposal was made
    orig_start: int  # code-point offsets of the change inside Proposal.original
    orig_end: int
    old_text: str
    new_text: str


class Outcome(StrEnum):
    """Kinds of rows in the decision log (one row per transition or event)."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    PARTLY_ACCEPTED = "partly_accepted"  # some hunks accepted, the others rejected
    REJECTED = "rejected"
    CORRECTED = "corrected"
    AUTO_APPLIED = "auto_applied"
    SUPPRESSED = "suppressed"
    EXPIRED = "expired"
    REWRITTEN = "rewritten"  # rejected, then the user rewrote the same range by hand
    PINNED = "pinned"
    ADAPTER_PROMOTED = "adapter_promoted"
    ADAPTER_REFUSED = "adapter_refused"
    ADAPTER_ROLLBACK = "adapter_rollback"
    # Publish (issue 15): a bundle written; a decision made through `tether serve`'s API,
    # which waits for a user's review and is no evidence until then; that review.
    PUBLISHED = "published"
    PRODUCTION = "production"
    REVIEWED = "reviewed"


#: Outcomes that end a proposal's life; a proposal in one of these takes no more user actions
#: (except CORRECTED after ACCEPTED, and REWRITTEN after REJECTED).
TERMINAL = frozenset(
    {
        Outcome.ACCEPTED,
        Outcome.PARTLY_ACCEPTED,
        Outcome.REJECTED,
        Outcome.CORRECTED,
        Outcome.AUTO_APPLIED,
        Outcome.SUPPRESSED,
        Outcome.EXPIRED,
    }
)

#: Outcomes that describe what a user did about a proposal (profile and training evidence).
USER_VERDICTS = frozenset(
    {
        Outcome.ACCEPTED,
        Outcome.PARTLY_ACCEPTED,
        Outcome.REJECTED,
        Outcome.CORRECTED,
        Outcome.REWRITTEN,
    }
)

#: Accepts of a whole proposal or of some of its hunks (the edit landed; the user approved).
ACCEPTS = frozenset({Outcome.ACCEPTED, Outcome.PARTLY_ACCEPTED})


class Actor(StrEnum):
    USER = "user"
    POLICY = "policy"
    SYSTEM = "system"


class ProposalState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CORRECTED = "corrected"
    AUTO_APPLIED = "auto_applied"
    SUPPRESSED = "suppressed"
    EXPIRED = "expired"


class Candidate(BaseModel):
    """One alternative the model offered for the same range."""

    text: str  # replacement for the proposal's range
    completion: str  # the raw model output it was parsed from (what training learns)
    score: float | None = None  # reranker score, when reranked
    source: str = ""  # what produced it: "ruff:E711", "student", "teacher", …
    kind: str = ""  # the kind of change: a ruff rule code ("E711") or "docstring", …


class Proposal(BaseModel):
    """An edit the agent wants to make; immutable once recorded (its state lives in the log)."""

    id: str = Field(default_factory=new_id)
    created_at: str = Field(default_factory=utcnow)
    uri: str
    path: str  # workspace-relative path, POSIX separators
    language: str = "python"
    version: int | None = None  # document version the edit is pinned to
    range: Range
    task: str
    kind: str = ""  # the chosen candidate's kind of change (a rule code or "docstring", …)
    class_key: str
    risk: list[str] = Field(default_factory=list)
    rationale: str = ""
    original: str  # text of `range` when proposed
    proposed: str  # replacement text for `range` (the chosen candidate)
    hunks: list[Hunk] = Field(default_factory=list)
    candidates: list[Candidate] = Field(default_factory=list)
    chosen_candidate: int = 0
    prompt: str = ""  # the exact prompt (chat-rendered) the model saw
    completion: str = ""  # raw model output for the chosen candidate
    model: str = ""  # e.g. "embedded:smollm2", "litellm:anthropic/claude-…"
    role: str = "student"  # student | teacher
    adapter_version: str | None = None
    state: ProposalState = ProposalState.PENDING
    meta: dict[str, Any] = Field(default_factory=dict)

    @property
    def rationale_headline(self) -> str:
        first = self.rationale.strip().splitlines()
        return first[0] if first else f"Tether suggests a change ({self.task})"
