"""The values the service hands its callers: changes, plans and outcomes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tether.core.types import Proposal, Range
from tether.profile.models import PolicyDecision


class TextChange(BaseModel):
    """One content change as editors send it: a range of the current text, or all of it."""

    model_config = ConfigDict(frozen=True)

    range: Range | None = None
    text: str


class PlannedProposal(BaseModel):
    """A recorded proposal and what the policy decided to do with it."""

    proposal: Proposal
    decision: PolicyDecision
    record_seq: int


class ProposeOutcome(BaseModel):
    proposals: list[PlannedProposal] = Field(default_factory=list)
    failures: list[str] = Field(default_factory=list)

    @property
    def shown(self) -> list[PlannedProposal]:
        return [p for p in self.proposals if p.decision.mode == "ask"]

    @property
    def auto(self) -> list[PlannedProposal]:
        return [p for p in self.proposals if p.decision.mode == "auto"]

    @property
    def suppressed(self) -> list[PlannedProposal]:
        return [p for p in self.proposals if p.decision.mode == "quiet"]


class TextEdit(BaseModel):
    range: Range
    new_text: str


class AcceptPlan(BaseModel):
    """What an accept will change; the front end applies `edits` to `uri` at `version`."""

    proposal: Proposal
    uri: str
    version: int | None
    edits: list[TextEdit]
    hunks: list[int] | None  # None: all of them
    hunks_total: int = 0  # how many hunks the chosen candidate has
    candidate: int | None
    text: str  # the replacement of the proposal's range after the edit
    expected: str | None  # the whole document after the edit (None: document not open)
