"""Every message of the contract, in one list: the generators read only this."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from tether.protocol import commands as c
from tether.protocol import methods as m
from tether.protocol import requests as r
from tether.protocol.notifications import DecisionRecorded, TrainingStatusChanged
from tether.protocol.production import ProductionParams, ProductionResult
from tether.protocol.students import StudentsResult
from tether.protocol.views import HistoryPageView, ProposalDetail

Kind = Literal["command", "request", "notification"]


@dataclass(frozen=True)
class Message:
    """One message: commands take `params` as their single argument; notifications have
    no result and are sent by the server."""

    method: str
    kind: Kind
    params: type[BaseModel]
    result: type[BaseModel] | None = None


MESSAGES: tuple[Message, ...] = (
    Message(m.PROPOSE, "command", c.ProposeArgs, c.ProposeResult),
    Message(m.ASK, "command", c.AskArgs, c.ProposeResult),
    Message(m.REGENERATE, "command", c.ProposalArgs, c.ReplaceResult),
    Message(m.REFINE, "command", c.RefineArgs, c.ReplaceResult),
    Message(m.ACCEPT, "command", c.AcceptArgs, c.DecisionResult),
    Message(m.REJECT, "command", c.RejectArgs, c.DecisionResult),
    Message(m.SHOW_DIFF, "command", c.ProposalArgs, c.ShowDiffResult),
    Message(m.PIN, "command", c.PinArgs, c.PinResult),
    Message(m.VERIFY, "command", c.WorkspaceArgs, c.VerifyCommandResult),
    Message(m.TRAIN_NOW, "command", c.WorkspaceArgs, c.TrainStartedResult),
    Message(m.CANCEL_TRAINING, "command", c.WorkspaceArgs, c.CancelTrainingResult),
    Message(m.REVIEW_PRODUCTION, "command", c.ReviewProductionArgs, c.ReviewProductionResult),
    Message(m.HISTORY, "request", r.HistoryParams, HistoryPageView),
    Message(m.PROFILE, "request", r.WorkspaceParams, r.ProfileResult),
    Message(m.PROPOSAL, "request", r.ProposalParams, ProposalDetail),
    Message(m.STATUS, "request", r.WorkspaceParams, r.StatusResult),
    Message(m.PRODUCTION, "request", ProductionParams, ProductionResult),
    Message(m.STUDENTS, "request", r.WorkspaceParams, StudentsResult),
    Message(m.DECISION_RECORDED, "notification", DecisionRecorded),
    Message(m.TRAINING_STATUS, "notification", TrainingStatusChanged),
)
