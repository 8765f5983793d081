"""The contract's method names (defined in `tether.protocol.methods`) and the
request-scoped state the protocol sets.

Kept light (no pydantic, no pygls) so the server can register every command before the
modules that implement them are loaded.
"""

from __future__ import annotations

import contextvars
from typing import Any

from tether.protocol.methods import (
    ACCEPT,
    ASK,
    CANCEL_TRAINING,
    COMMANDS,
    DECISION_RECORDED,
    HISTORY,
    NOTIFICATIONS,
    PIN,
    PROFILE,
    PROPOSAL,
    PROPOSE,
    REFINE,
    REGENERATE,
    REJECT,
    REQUESTS,
    SHOW_DIFF,
    STATUS,
    TRAIN_NOW,
    TRAINING_STATUS,
    VERIFY,
)

__all__ = [
    "ACCEPT",
    "ASK",
    "CANCEL_TRAINING",
    "COMMANDS",
    "DECISION_RECORDED",
    "HISTORY",
    "NOTIFICATIONS",
    "PIN",
    "PROFILE",
    "PROPOSAL",
    "PROPOSE",
    "REFINE",
    "REGENERATE",
    "REJECT",
    "REQUESTS",
    "SHOW_DIFF",
    "STATUS",
    "TRAINING_STATUS",
    "TRAIN_NOW",
    "VERIFY",
    "work_done_token",
]

#: The workDoneToken of the executeCommand request being handled (set by the protocol).
work_done_token: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "work_done_token", default=None
)
