"""What the service refuses, as exceptions whose message is for the user, as is."""

from __future__ import annotations

from collections.abc import Sequence

from tether.core.messages import no_proposal


class ServiceError(Exception):
    """A request the service cannot carry out; the message is for the user, as is."""

    kind = "error"


class BadRequest(ServiceError):
    """Arguments that do not make sense (a range past the end, an unknown task…)."""

    kind = "bad_request"


class UnknownDocument(BadRequest):
    kind = "unknown_document"


class DocumentTooLarge(BadRequest):
    kind = "too_large"


class ProposalNotFound(BadRequest):
    kind = "unknown_proposal"


class ProposalNotPending(ServiceError):
    """The proposal was already decided (or expired); nothing more can be done with it."""

    kind = "not_pending"


class ProposalBusy(ServiceError):
    """Another accept of the same proposal is in flight."""

    kind = "busy"


class StaleDocument(ServiceError):
    """The document moved on from the version the work was about."""

    kind = "stale"


class WorkCancelled(ServiceError):
    """The agent's work was dropped: cancelled, or made stale by an edit."""

    kind = "cancelled"


class StaleWork(WorkCancelled):
    """The document changed under the agent's work; its result would not fit any more."""

    kind = "stale"


class AgentFailed(ServiceError):
    """The model provider is down or answered with nothing usable."""

    kind = "agent_failed"

    def __init__(
        self,
        message: str,
        failures: Sequence[str] = (),
        tried: str = "",
        whole_selection: bool = False,
    ) -> None:
        super().__init__(message)
        # the raw reasons nothing survived (tether.core.messages.no_proposal words them)
        self.failures = list(failures)
        self.tried = tried  # what the agent tried, in words ("1 ruff fix and 4 model answers")
        self.whole_selection = whole_selection  # the request already held a whole function

    @classmethod
    def nothing_survived(
        cls, failures: Sequence[str], tried: str = "", whole_selection: bool = False
    ) -> AgentFailed:
        """No candidate passed the checks: the message says what was tried, why, what to do."""
        text = no_proposal(list(failures), tried, whole_selection=whole_selection).text()
        return cls(text, failures, tried, whole_selection)


class TrainingBusy(ServiceError):
    kind = "training_busy"
