"""What the service tells its front end (the language server's Bridge implements it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tether.decisions import DecisionRecord
    from tether.service.values import ProposeOutcome


class ServiceEvents:
    """What the service tells its front end; every method is a no-op here.

    Called synchronously from the service's own task; implementations must not block
    (the language server only queues notifications).
    """

    def decision_recorded(self, record: DecisionRecord) -> None:
        """After every row the service appends (the row is durable by then)."""

    def proposals_changed(self, uri: str) -> None:
        """The set of pending proposals on `uri` changed (republish diagnostics)."""

    def review_ready(self, uri: str, outcome: ProposeOutcome) -> None:
        """A background review (on save) produced proposals that need presenting."""

    def training_status(self, status: dict[str, Any]) -> None:
        """Training moved on (started, progressed, finished)."""

    def problem(self, message: str) -> None:
        """Something went wrong in background work the user did not wait on."""
