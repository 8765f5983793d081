"""Rows of the store, as pydantic models (the store's boundary)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tether.core.types import Actor, Outcome


class DecisionContent(BaseModel):
    """What a decision row says; its canonical JSON is exactly what the chain hashes."""

    model_config = ConfigDict(extra="forbid")

    ts: str
    outcome: Outcome
    actor: Actor
    proposal_id: str | None = None
    class_key: str | None = None
    path: str | None = None
    uri: str | None = None
    model: str | None = None
    adapter_version: str | None = None
    reason: str | None = None
    before: str | None = None
    after: str | None = None
    hunks: list[int] | None = None
    candidate: int | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class DecisionRecord(DecisionContent):
    seq: int
    prev_hash: str
    hash: str


class HistoryFilter(BaseModel):
    """Filters for `history`; every field narrows the result, None means any."""

    model_config = ConfigDict(extra="forbid")

    since: str | None = None  # ISO timestamp, inclusive
    until: str | None = None  # ISO timestamp, exclusive
    path: str | None = None  # exact path, or a prefix ending in "/"
    class_key: str | None = None
    outcome: list[Outcome] | None = None
    actor: Actor | None = None
    model: str | None = None
    adapter_version: str | None = None
    proposal_id: str | None = None
    search: str | None = None  # substring of path, class, reason or texts


class HistoryPage(BaseModel):
    items: list[DecisionRecord]
    total: int
    offset: int
    limit: int


BreakKind = Literal["edited", "deleted", "inserted", "reordered"]


class VerifyResult(BaseModel):
    ok: bool
    rows: int
    head_hash: str
    first_broken_seq: int | None = None
    kind: BreakKind | None = None
    detail: str | None = None

    def summary(self) -> str:
        if self.ok:
            return f"chain OK: {self.rows} decisions, head {self.head_hash[:12]}"
        return f"chain BROKEN at row {self.first_broken_seq}: {self.kind}: {self.detail}"


AdapterStatus = Literal["candidate", "active", "refused", "retired"]


class AdapterRow(BaseModel):
    version: str  # "v1", "v2", …
    created_at: str
    parent: str | None = None
    status: AdapterStatus
    path: str
    metrics: dict[str, Any] = Field(default_factory=dict)
    lineage: dict[str, Any] = Field(default_factory=dict)


class MemoryRow(BaseModel):
    id: str
    kind: Literal["exemplar", "reflection", "insight"]
    class_key: str | None = None
    created_at: str
    updated_at: str
    votes: int = 0
    active: bool = True
    body: dict[str, Any] = Field(default_factory=dict)


class ProfileSnapshot(BaseModel):
    id: int
    created_at: str
    head_seq: int
    body: dict[str, Any]
