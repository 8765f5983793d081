"""A proposal's lifecycle as the log records it: which outcome may follow which state, and
the state each outcome leaves. The store checks new decisions against it and the verifier
derives every proposal's state from it (the proposals table's copy is not trusted)."""

from __future__ import annotations

from tether.core.types import Outcome, ProposalState
from tether.decisions.state import state_outcomes

#: What each outcome may follow, by the proposal's current state.
ALLOWED_FROM: dict[Outcome, frozenset[ProposalState]] = {
    Outcome.ACCEPTED: frozenset({ProposalState.PENDING}),
    Outcome.PARTLY_ACCEPTED: frozenset({ProposalState.PENDING}),
    Outcome.REJECTED: frozenset({ProposalState.PENDING}),
    Outcome.AUTO_APPLIED: frozenset({ProposalState.PENDING}),
    Outcome.SUPPRESSED: frozenset({ProposalState.PENDING}),
    Outcome.EXPIRED: frozenset({ProposalState.PENDING}),
    Outcome.CORRECTED: frozenset({ProposalState.ACCEPTED, ProposalState.AUTO_APPLIED}),
    Outcome.REWRITTEN: frozenset({ProposalState.REJECTED}),
}

#: The state each outcome leaves a proposal in (`proposed` leaves it pending).
STATE_AFTER: dict[Outcome, ProposalState] = {
    Outcome.ACCEPTED: ProposalState.ACCEPTED,
    Outcome.PARTLY_ACCEPTED: ProposalState.ACCEPTED,  # the landed hunks may be corrected
    Outcome.REJECTED: ProposalState.REJECTED,
    Outcome.AUTO_APPLIED: ProposalState.AUTO_APPLIED,
    Outcome.SUPPRESSED: ProposalState.SUPPRESSED,
    Outcome.EXPIRED: ProposalState.EXPIRED,
    Outcome.CORRECTED: ProposalState.CORRECTED,
}

#: The outcomes that set a proposal's state, for SQL `IN (...)`.
STATE_OUTCOMES = state_outcomes(STATE_AFTER)
_MARKS = ",".join("?" * len(STATE_OUTCOMES))

#: A proposal's last state-changing row, correlated with the proposals table.
LAST_STATE_SUBQUERY = (
    "SELECT d.outcome FROM decisions d WHERE d.proposal_id = proposals.id AND d.outcome IN "
    f"({_MARKS}) ORDER BY d.seq DESC LIMIT 1"
)
#: One proposal's last state-changing row (params: the id, then STATE_OUTCOMES).
LAST_STATE_SQL = (
    f"SELECT outcome FROM decisions WHERE proposal_id = ? AND outcome IN ({_MARKS}) "
    "ORDER BY seq DESC LIMIT 1"
)
