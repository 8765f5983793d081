"""Payloads of the server's notifications."""

from __future__ import annotations

from pydantic import RootModel

from tether.protocol.views import DecisionView, TrainingStatusView, TrainingUnavailable


class DecisionRecorded(RootModel[DecisionView]):  # type: ignore[valid-type]
    """tether/decisionRecorded: the row as recorded (sent once it is durable)."""


class TrainingStatusChanged(RootModel[TrainingStatusView | TrainingUnavailable]):  # type: ignore[valid-type]
    """tether/trainingStatus: the training status, the same shape as in tether/profile."""
