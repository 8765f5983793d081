"""Living tether on the wire (issue 15): decisions made through `tether serve`, their
reviews, the profile's separate tally of them, and what the local student saved.

These mirror `tether.publish.production` and `tether.publish.savings` field for field;
they are declared here (not derived from those models) so the contract does not import the
publish package, which sits above the language server in the layering.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tether.protocol.wire import Args, Wire


class ProductionParams(Args):
    pending_only: bool = Field(False, description="Only the decisions still awaiting review.")
    limit: int = Field(100, ge=1, le=1000, description="Most items, newest first.")
    uri: str | None = None  # picks the workspace folder in a multi-root window


class ProductionItemView(Wire):
    """A verdict an API client gave on a proposal `tether serve` made, and its review."""

    seq: int = Field(description="The production decision's log row (what a review names).")
    ts: str
    proposal_id: str
    class_key: str | None
    path: str | None
    verdict: Literal["accept", "reject", "correct"]
    text: str | None = Field(None, description="The client's corrected text (verdict correct).")
    reason: str | None = None
    token_id: str | None = Field(None, description="Which API token decided (never the token).")
    review: Literal["pending", "confirm", "overturn", "discard"] = "pending"
    reviewed_seq: int | None = None


class ProductionCountsView(Wire):
    """The profile's separate tally: production decisions count as evidence only once
    reviewed (confirmed or overturned); pending and discarded ones teach nothing."""

    pending: int = 0
    confirmed: int = 0
    overturned: int = 0
    discarded: int = 0
    by_verdict: dict[str, int] = Field(default_factory=dict)


class SavingsView(Wire):
    """What the teacher would have cost for the proposals the local student answered."""

    teacher: str | None = Field(description="The configured teacher; null: none configured.")
    proposals: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usd: float | None = Field(None, description="Null when litellm has no price for the teacher.")
    note: str = ""
    summary: str = Field("", description="One sentence for people.")


class ProductionResult(Wire):
    items: list[ProductionItemView] = Field(description="Newest first.")
    counts: ProductionCountsView
