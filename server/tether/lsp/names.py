"""The names of the client contract, and the request-scoped state the protocol sets.

Kept apart (and free of imports) so the server can register every command before the
modules that implement them are loaded.
"""

from __future__ import annotations

import contextvars
from typing import Any

PROPOSE = "tether.propose"
ACCEPT = "tether.accept"
REJECT = "tether.reject"
TRAIN_NOW = "tether.trainNow"
CANCEL_TRAINING = "tether.cancelTraining"
VERIFY = "tether.verify"
PIN = "tether.pin"
SHOW_DIFF = "tether.showDiff"
ASK = "tether.ask"  # a request in the user's own words on a range
REGENERATE = "tether.regenerate"  # another answer instead of a shown proposal
REFINE = "tether.refine"  # another answer, told what to change (the words are the reason)
COMMANDS = (
    PROPOSE,
    ACCEPT,
    REJECT,
    TRAIN_NOW,
    CANCEL_TRAINING,
    VERIFY,
    PIN,
    SHOW_DIFF,
    ASK,
    REGENERATE,
    REFINE,
)

HISTORY = "tether/history"
PROFILE = "tether/profile"
PROPOSAL = "tether/proposal"
STATUS = "tether/status"
REQUESTS = (HISTORY, PROFILE, PROPOSAL, STATUS)

DECISION_RECORDED = "tether/decisionRecorded"
TRAINING_STATUS = "tether/trainingStatus"

#: The workDoneToken of the executeCommand request being handled (set by the protocol).
work_done_token: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "work_done_token", default=None
)
