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


BreakKind = Literal[
    "edited",  # a row's content, hash or seal no longer holds
    "deleted",  # rows missing inside the log (`missing` names them)
    "inserted",  # rows that Tether did not chain or seal
    "reordered",  # a row links to one that now comes after it
    "truncated",  # rows missing from the end (`missing` names them)
    "head",  # the recorded head was changed outside Tether
    "state",  # pins, proposal states, snapshots or memory edited outside the chain
    "checkpoint",  # a checkpoint that is not this store's, or a missing key
]


class VerifyProblem(BaseModel):
    """One thing `verify` found wrong; `seq` is the first row it concerns, when a row."""

    kind: BreakKind
    detail: str
    seq: int | None = None
    missing: list[int] | None = None
    checkpoint: int | None = None  # the number of the checkpoint that proves it


class VerifyResult(BaseModel):
    ok: bool
    rows: int
    head_hash: str
    first_broken_seq: int | None = None
    kind: BreakKind | None = None
    detail: str | None = None
    missing: list[int] | None = None  # sequence numbers of removed rows
    checkpoint: int | None = None  # the checkpoint that disagrees (its number)
    problems: list[VerifyProblem] = Field(default_factory=list)  # everything found
    checkpoints: int = 0  # checkpoints checked
    anchored_seq: int = 0  # the highest row a checkpoint vouches for
    sealed: bool = False  # whether row seals were checked (the store's key was there)

    @classmethod
    def of(
        cls, rows: int, head_hash: str, problems: list[VerifyProblem], **kw: Any
    ) -> VerifyResult:
        if not problems:
            return cls(ok=True, rows=rows, head_hash=head_hash, **kw)
        first = problems[0]
        return cls(
            ok=False,
            rows=rows,
            head_hash=head_hash,
            first_broken_seq=first.seq,
            kind=first.kind,
            detail=first.detail,
            missing=first.missing,
            checkpoint=first.checkpoint,
            problems=problems,
            **kw,
        )

    def summary(self) -> str:
        if self.ok:
            anchor = (
                f", {self.checkpoints} checkpoint(s), anchored to row {self.anchored_seq}"
                if self.checkpoints
                else ""
            )
            return f"chain OK: {self.rows} decisions, head {self.head_hash[:12]}{anchor}"
        where = f" at row {self.first_broken_seq}" if self.first_broken_seq is not None else ""
        more = f" (+{len(self.problems) - 1} more problem(s))" if len(self.problems) > 1 else ""
        return f"chain BROKEN{where}: {self.kind}: {self.detail}{more}"


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
