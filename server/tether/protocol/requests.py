"""Tether's own requests (`tether/history`, …): params and results."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from tether.protocol.production import ProductionCountsView, SavingsView
from tether.protocol.views import (
    AdapterView,
    HistoryFilterView,
    ProfileClassView,
    ProfileSummaryView,
    TrainingStatusView,
    TrainingUnavailable,
)
from tether.protocol.wire import Args, Wire


class HistoryFilterArgs(HistoryFilterView):  # type: ignore[misc, valid-type]
    """The store's `HistoryFilter`; a single outcome may come as a plain string."""

    @field_validator("outcome", mode="before")
    @classmethod
    def _one_outcome(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class HistoryParams(Args):
    offset: int = Field(0, ge=0)
    limit: int = Field(50, ge=1, le=1000)
    filter: HistoryFilterArgs | None = None
    uri: str | None = None


class ProposalParams(Args):
    proposal_id: str


class WorkspaceParams(Args):
    uri: str | None = None


class ProfileResult(Wire):
    classes: list[ProfileClassView]  # type: ignore[valid-type]
    profile: ProfileSummaryView  # type: ignore[valid-type]
    adapters: list[AdapterView]  # type: ignore[valid-type]
    training: TrainingStatusView | TrainingUnavailable  # type: ignore[valid-type]
    production: ProductionCountsView | None = Field(
        None, description="Decisions made through `tether serve`, counted apart (issue 15)."
    )
    savings: SavingsView | None = Field(
        None, description="What the local student saved against the configured teacher."
    )


class WorkspaceStatus(Wire):
    root: str
    db: str | None
    model: str
    error: str | None


class StatusResult(Wire):
    version: str
    pid: int
    heavy_modules: list[str] = Field(
        description="Heavy libraries loaded; stays empty until a model or training is used."
    )
    workspaces: list[WorkspaceStatus]
    memory: dict[str, Any] | None = Field(
        None, description="This server's memory, its models' and the other servers'."
    )
