"""Service events carried to the editor: notifications, diagnostics, messages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from tether.decisions import DecisionRecord
from tether.lsp.names import DECISION_RECORDED, TRAINING_STATUS
from tether.protocol.notifications import DecisionRecorded, TrainingStatusChanged
from tether.service import ProposeOutcome, ServiceEvents

if TYPE_CHECKING:
    from tether.lsp.context import Editor, Folder


class Bridge(ServiceEvents):
    """Service events as LSP notifications, diagnostics and messages."""

    def __init__(self, session: Editor, folder: Folder) -> None:
        self.session = session
        self.folder = folder

    def decision_recorded(self, record: DecisionRecord) -> None:
        self.session.notify(
            DECISION_RECORDED,
            DecisionRecorded.model_validate(record.model_dump()).model_dump(mode="json"),
        )

    def proposals_changed(self, uri: str) -> None:
        self.session.publish(self.folder, uri)

    def review_ready(self, uri: str, outcome: ProposeOutcome) -> None:
        from tether.lsp import flows

        service = self.folder.service
        if service is not None:
            self.session.spawn(flows.present(self.session, service, outcome), "review")

    def training_status(self, status: dict[str, Any]) -> None:
        self.session.notify(
            TRAINING_STATUS, TrainingStatusChanged.model_validate(status).model_dump(mode="json")
        )

    def problem(self, message: str) -> None:
        self.session.show(message, lsp.MessageType.Error)
