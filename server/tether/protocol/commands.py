"""`workspace/executeCommand`: each command's one object argument and its answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, create_model

from tether.core.types import Range
from tether.protocol.views import TrainingStatusView, TrainingUnavailable, VerifyView
from tether.protocol.wire import Args, Wire


class ProposeArgs(Args):
    uri: str
    range: Range
    task: str
    version: int | None = None
    diagnostics: list[dict[str, Any]] = Field(default_factory=list)


class ProposeResult(Wire):
    proposal_ids: list[str]
    shown: list[str] = Field(description="Proposals waiting for the user's review.")
    auto_applied: list[str]
    suppressed: list[str]
    failures: list[str]


class AskArgs(Args):
    uri: str
    range: Range
    instruction: str = Field(description="The user's own words: 'make this iterative'.")
    task: str | None = None  # default: the spec's first task offered on a selection
    version: int | None = None


class RefineArgs(Args):
    proposal_id: str
    # what to change; recorded as the reason the old proposal was replaced. Editors ask for
    # it (the code action carries none); empty is a clear error, never a silent regenerate.
    instruction: str = ""


class ReplaceResult(ProposeResult):
    """A regenerate or refine: the new proposals, and the one they replaced."""

    replaced: str


class AcceptArgs(Args):
    proposal_id: str
    hunks: list[int] | None = None
    candidate: int | None = Field(None, ge=0)
    reason: str | None = None  # why the hunks left out were rejected (a partial accept)


class RejectArgs(Args):
    proposal_id: str
    reason: str | None = None
    ask_reason: bool = False


class DecisionResult(Wire):
    """The row an accept or reject recorded; `cancelled` when the user dismissed the prompt."""

    proposal_id: str
    outcome: str | None
    seq: int | None = None
    cancelled: bool | None = None


class PinArgs(Args):
    class_key: str
    mode: str | None


class PinResult(Wire):
    class_key: str
    mode: str | None
    seq: int


class ProposalArgs(Args):
    proposal_id: str


class ShowDiffResult(Wire):
    proposal_id: str
    diff: str | None


class WorkspaceArgs(Args):
    uri: str | None = None  # picks the workspace folder in a multi-root window


#: The chain check (every field of the store's VerifyResult) and its one-line summary.
VerifyCommandResult: type[Wire] = create_model(  # type: ignore[call-overload]
    "VerifyCommandResult",
    __base__=Wire,
    __doc__="The decision log's chain check, and its one-line summary.",
    summary=(str, ...),
    **{name: (info.annotation, info) for name, info in VerifyView.model_fields.items()},
)


class TrainStartedResult(Wire):
    started: bool
    status: TrainingStatusView | TrainingUnavailable  # type: ignore[valid-type]


class CancelTrainingResult(Wire):
    cancelled: bool


class ReviewProductionArgs(Args):
    """Settle a decision an API client made (`tether serve`): only reviewed ones teach."""

    seq: int = Field(description="The log row of the production decision.")
    action: Literal["confirm", "overturn", "discard"]
    reason: str | None = None
    uri: str | None = None  # picks the workspace folder in a multi-root window


class ReviewProductionResult(Wire):
    seq: int
    action: str
    proposal_id: str
    recorded: list[int] = Field(description="The rows the review appended.")
    pending: int = Field(description="Production decisions still awaiting review.")
