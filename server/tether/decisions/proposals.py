"""Proposals and the decisions about them: each change of state is a logged row, checked
against the lifecycle (`transitions.py`) in the same transaction that writes it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiosqlite

from tether.core.types import Actor, Outcome, Proposal, ProposalState, utcnow
from tether.decisions.errors import InvalidTransition, UnknownProposal
from tether.decisions.log import ChainedLog
from tether.decisions.models import DecisionContent, DecisionRecord
from tether.decisions.state import state_after
from tether.decisions.transitions import (
    ALLOWED_FROM,
    LAST_STATE_SQL,
    LAST_STATE_SUBQUERY,
    STATE_AFTER,
    STATE_OUTCOMES,
)


class ProposalRepository:
    def __init__(self, chain: ChainedLog) -> None:
        self._chain = chain

    async def add(self, proposal: Proposal, *, actor: Actor = Actor.SYSTEM) -> DecisionRecord:
        """Store a proposal and its `proposed` row in one transaction."""
        content = DecisionContent(
            ts=utcnow(),
            outcome=Outcome.PROPOSED,
            actor=actor,
            proposal_id=proposal.id,
            class_key=proposal.class_key,
            path=proposal.path,
            uri=proposal.uri,
            model=proposal.model,
            adapter_version=proposal.adapter_version,
            before=proposal.original,
            after=proposal.proposed,
            data={"task": proposal.task, "role": proposal.role, "risk": proposal.risk},
        )
        async with self._chain.write() as db:
            await db.execute(
                "INSERT INTO proposals(id, created_at, uri, path, task, class_key, model, "
                "adapter_version, state, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    proposal.id,
                    proposal.created_at,
                    proposal.uri,
                    proposal.path,
                    proposal.task,
                    proposal.class_key,
                    proposal.model,
                    proposal.adapter_version,
                    proposal.state.value,
                    proposal.model_dump_json(),
                ),
            )
            return await self._chain.chain(db, content)

    async def record(
        self,
        outcome: Outcome,
        *,
        actor: Actor,
        proposal_id: str | None = None,
        reason: str | None = None,
        before: str | None = None,
        after: str | None = None,
        hunks: Sequence[int] | None = None,
        candidate: int | None = None,
        class_key: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> DecisionRecord:
        """Append one decision; returns only once it is durable.

        For a proposal, the transition is checked against its current state and the
        proposal's state is updated in the same transaction. A correction back to the
        proposal's original text (the user undid the edit) is marked `data["reverted"]`, so
        every reader of the log (the profile first) can tell an undo from a fix.
        """
        async with self._chain.write() as db:
            proposal: Proposal | None = None
            if proposal_id is not None:
                rows = await db.execute_fetchall(
                    "SELECT body, state FROM proposals WHERE id = ?", (proposal_id,)
                )
                if not rows:
                    raise UnknownProposal(proposal_id)
                proposal = Proposal.model_validate_json(rows[0][0])
                state = await _logged_state(db, proposal_id)
                allowed = ALLOWED_FROM.get(outcome)
                if allowed is not None and state not in allowed:
                    raise InvalidTransition(
                        f"proposal {proposal_id} is {state.value}; cannot record {outcome.value}"
                    )
                if outcome == Outcome.CORRECTED and after == proposal.original:
                    data = {**(data or {}), "reverted": True}
            content = DecisionContent(
                ts=utcnow(),
                outcome=outcome,
                actor=actor,
                proposal_id=proposal_id,
                class_key=class_key or (proposal.class_key if proposal else None),
                path=proposal.path if proposal else None,
                uri=proposal.uri if proposal else None,
                model=proposal.model if proposal else None,
                adapter_version=proposal.adapter_version if proposal else None,
                reason=reason,
                before=before,
                after=after,
                hunks=list(hunks) if hunks is not None else None,
                candidate=candidate,
                data=data or {},
            )
            record = await self._chain.chain(db, content)
            if proposal is not None and outcome in STATE_AFTER:
                new_state = STATE_AFTER[outcome]
                proposal.state = new_state
                await db.execute(
                    "UPDATE proposals SET state = ?, body = ? WHERE id = ?",
                    (new_state.value, proposal.model_dump_json(), proposal_id),
                )
            return record

    async def get(self, proposal_id: str) -> Proposal:
        """The proposal, its state as the log says (the table's copy is not trusted)."""
        db = self._chain.db
        rows = await db.execute_fetchall("SELECT body FROM proposals WHERE id = ?", (proposal_id,))
        if not rows:
            raise UnknownProposal(proposal_id)
        proposal = Proposal.model_validate_json(rows[0][0])
        proposal.state = await _logged_state(db, proposal_id)
        return proposal

    async def find(
        self, *, state: ProposalState | None = None, uri: str | None = None, limit: int = 500
    ) -> list[Proposal]:
        """Proposals in a state (as the log says) and/or on a document, oldest first."""
        sql, args = (
            f"SELECT body, ({LAST_STATE_SUBQUERY}) AS logged FROM proposals WHERE 1=1",
            [],
        )
        if state is not None:
            sql += " AND state = ?"
            args.append(state.value)
        if uri is not None:
            sql += " AND uri = ?"
            args.append(uri)
        # The state column narrows the search; the log has the last word on each proposal.
        rows = await self._chain.db.execute_fetchall(
            sql + " ORDER BY created_at LIMIT ?", [*STATE_OUTCOMES, *args, limit]
        )
        out: list[Proposal] = []
        for body, logged in rows:
            actual = state_after(logged, STATE_AFTER) if logged else None
            if actual is None or (state is not None and actual != state):
                continue
            proposal = Proposal.model_validate_json(body)
            proposal.state = actual
            out.append(proposal)
        return out


async def _logged_state(db: aiosqlite.Connection, proposal_id: str) -> ProposalState:
    """A proposal's state as the log says (its last state-changing row)."""
    rows = await db.execute_fetchall(LAST_STATE_SQL, (proposal_id, *STATE_OUTCOMES))
    state = state_after(rows[0][0], STATE_AFTER) if rows else None
    if state is None:  # a proposal row with no `proposed` row was not made by Tether
        raise UnknownProposal(proposal_id)
    return state
