"""Living tether: decisions made against the published agent come back for review.

A client of `tether serve` can accept, reject or correct a proposal the API made. That
verdict came from a program or a person Tether never saw, so it is recorded as a
`production` row (with the client's token id, never the token) and is *no* evidence: the
profile, the memory and training ignore the outcome. A user then reviews it, from the
editor (LSP command `tether.reviewProduction`) or `tether review`:
- confirm: the verdict is recorded as the user's own (accepted / rejected / corrected,
  `data.production = true`): from then on it is training signal and profile evidence;
- overturn: the opposite verdict is recorded as the user's (an accept becomes a reject,
  a reject or a correction becomes an accept of the proposal as made);
- discard: the proposal is expired; nothing is learnt.
Each review is also a `reviewed` row naming the production row it settles.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from pydantic import BaseModel, Field

from tether.core.types import Actor, Outcome, ProposalState
from tether.decisions.models import DecisionRecord, HistoryFilter
from tether.decisions.store import DecisionStore, UnknownProposal

Verdict = Literal["accept", "reject", "correct"]
ReviewAction = Literal["confirm", "overturn", "discard"]

#: How a row is recorded; the service's recorder also lets the profile observe it.
Recorder = Callable[..., Awaitable[DecisionRecord]]


class ProductionError(ValueError):
    """A production decision or review that cannot be recorded; says why and what to do."""

    status = 409


class ProductionNotFound(ProductionError):
    status = 404


class ProductionItem(BaseModel):
    seq: int
    ts: str
    proposal_id: str
    class_key: str | None
    path: str | None
    verdict: Verdict
    text: str | None = None
    reason: str | None = None
    token_id: str | None = None
    review: str = "pending"  # pending | confirm | overturn | discard
    reviewed_seq: int | None = None


class ProductionCounts(BaseModel):
    """The profile's separate tally of production decisions."""

    pending: int = 0
    confirmed: int = 0
    overturned: int = 0
    discarded: int = 0
    by_verdict: dict[str, int] = Field(default_factory=dict)


async def _rows(store: DecisionStore, outcomes: list[Outcome]) -> list[DecisionRecord]:
    rows: list[DecisionRecord] = []
    offset = 0
    while True:
        page = await store.history(HistoryFilter(outcome=outcomes), offset=offset, limit=500)
        rows += page.items
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return sorted(rows, key=lambda r: r.seq)


async def items(store: DecisionStore) -> list[ProductionItem]:
    """Every production decision, with its review when it has one (oldest first)."""
    rows = await _rows(store, [Outcome.PRODUCTION, Outcome.REVIEWED])
    reviews = {
        int(r.data["review_of"]): r
        for r in rows
        if r.outcome == Outcome.REVIEWED and "review_of" in r.data
    }
    out = []
    for row in rows:
        if row.outcome != Outcome.PRODUCTION or row.proposal_id is None:
            continue
        review = reviews.get(row.seq)
        out.append(
            ProductionItem(
                seq=row.seq,
                ts=row.ts,
                proposal_id=row.proposal_id,
                class_key=row.class_key,
                path=row.path,
                verdict=row.data.get("verdict", "accept"),
                text=row.after,
                reason=row.reason,
                token_id=row.data.get("token_id"),
                review=str(review.data.get("action")) if review else "pending",
                reviewed_seq=review.seq if review else None,
            )
        )
    return out


async def pending(store: DecisionStore) -> list[ProductionItem]:
    return [i for i in await items(store) if i.review == "pending"]


async def counts(store: DecisionStore) -> ProductionCounts:
    tally = ProductionCounts()
    names = {"confirm": "confirmed", "overturn": "overturned", "discard": "discarded"}
    for item in await items(store):
        field = names.get(item.review, "pending")
        setattr(tally, field, getattr(tally, field) + 1)
        tally.by_verdict[item.verdict] = tally.by_verdict.get(item.verdict, 0) + 1
    return tally


async def record_decision(
    store: DecisionStore,
    proposal_id: str,
    verdict: Verdict,
    *,
    token_id: str,
    text: str | None = None,
    reason: str | None = None,
) -> DecisionRecord:
    """Record an API client's verdict on a proposal the API made, awaiting review."""
    try:
        proposal = await store.get_proposal(proposal_id)
    except UnknownProposal:
        raise ProductionNotFound(f"there is no proposal {proposal_id!r}.") from None
    if proposal.meta.get("channel") != "api":
        raise ProductionError(
            f"proposal {proposal_id} was made in the editor, not through the API; decide it there."
        )
    if proposal.state != ProposalState.PENDING:
        raise ProductionError(f"proposal {proposal_id} is already {proposal.state.value}.")
    if any(i.proposal_id == proposal_id for i in await pending(store)):
        raise ProductionError(
            f"proposal {proposal_id} already has a decision awaiting review; it cannot be "
            "decided twice."
        )
    if verdict == "correct" and not text:
        raise ProductionError("a correction needs the corrected text in `text`.")
    return await store.record(
        Outcome.PRODUCTION,
        actor=Actor.USER,
        proposal_id=proposal_id,
        reason=reason,
        after=text if verdict == "correct" else None,
        data={"verdict": verdict, "token_id": token_id, "channel": "api", "review": "pending"},
    )


async def review(
    store: DecisionStore,
    seq: int,
    action: ReviewAction,
    *,
    reason: str | None = None,
    recorder: Recorder | None = None,
) -> list[DecisionRecord]:
    """Settle the production decision at row `seq`; returns the rows recorded."""
    record = recorder or store.record
    item = next((i for i in await items(store) if i.seq == seq), None)
    if item is None:
        raise ProductionNotFound(f"row {seq} is not a production decision.")
    if item.review != "pending":
        raise ProductionError(f"the production decision at row {seq} was already reviewed.")
    proposal = await store.get_proposal(item.proposal_id)
    if proposal.state != ProposalState.PENDING:
        raise ProductionError(
            f"proposal {item.proposal_id} is already {proposal.state.value}; nothing to review."
        )
    data: dict[str, Any] = {"production": True, "review_of": seq, "action": action}
    rows: list[DecisionRecord] = []
    common: dict[str, Any] = {"actor": Actor.USER, "proposal_id": item.proposal_id}
    if action == "discard":
        rows.append(
            await record(
                Outcome.EXPIRED,
                **common,
                reason="production decision discarded in review",
                data=data,
            )
        )
    elif (action == "confirm") == (
        item.verdict == "reject"
    ):  # confirm a reject, overturn an accept
        rows.append(
            await record(Outcome.REJECTED, **common, reason=reason or item.reason, data=data)
        )
    else:
        rows.append(await record(Outcome.ACCEPTED, **common, data=data))
        if action == "confirm" and item.verdict == "correct" and item.text is not None:
            rows.append(
                await record(
                    Outcome.CORRECTED,
                    **common,
                    before=proposal.proposed,
                    after=item.text,
                    data=data,
                )
            )
    rows.append(
        await record(
            Outcome.REVIEWED,
            **common,
            reason=reason,
            data={"review_of": seq, "action": action, "recorded": [r.seq for r in rows]},
        )
    )
    return rows
