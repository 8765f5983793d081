"""Verdicts on proposals: accept (planned, applied by the editor, then recorded), reject,
expire, correct. A proposal takes one verdict; a second fails with a clear error."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tether.core.diff import apply_hunks, make_hunks
from tether.core.text import RangeError, check_range
from tether.core.types import Actor, Hunk, Outcome, Proposal, ProposalState
from tether.decisions import DecisionRecord, InvalidTransition, UnknownProposal
from tether.profile.models import PolicyDecision
from tether.service.context import Context
from tether.service.corrections import CorrectionWatcher
from tether.service.documents import DocumentMirror
from tether.service.errors import (
    BadRequest,
    ProposalBusy,
    ProposalNotFound,
    ProposalNotPending,
    StaleDocument,
)
from tether.service.live import LiveProposals
from tether.service.recorder import Recorder
from tether.service.values import AcceptPlan, TextEdit


class Verdicts:
    def __init__(
        self,
        ctx: Context,
        docs: DocumentMirror,
        live: LiveProposals,
        recorder: Recorder,
        corrections: CorrectionWatcher,
    ) -> None:
        self.ctx = ctx
        self.docs = docs
        self.live = live
        self.recorder = recorder
        self.corrections = corrections

    async def get_proposal(self, proposal_id: str) -> Proposal:
        try:
            return await self.ctx.store.get_proposal(proposal_id)
        except UnknownProposal:
            raise ProposalNotFound(f"unknown proposal id {proposal_id!r}") from None

    async def pending_proposal(self, proposal_id: str) -> Proposal:
        """A proposal that still takes a verdict (ProposalNotPending otherwise)."""
        return await self._pending(proposal_id)

    async def _pending(self, proposal_id: str) -> Proposal:
        proposal = await self.get_proposal(proposal_id)
        if proposal.state is not ProposalState.PENDING:
            raise ProposalNotPending(
                f"proposal {proposal_id} is already {proposal.state.value}; nothing to do"
            )
        return proposal

    async def plan_accept(
        self,
        proposal_id: str,
        hunks: Sequence[int] | None = None,
        candidate: int | None = None,
    ) -> AcceptPlan:
        """Check an accept and work out its edit; the proposal is held until release()."""
        proposal = await self._pending(proposal_id)
        if proposal_id in self.live.busy:
            raise ProposalBusy(f"proposal {proposal_id} is already being applied")
        doc = self.docs.get(proposal.uri)
        if doc is not None and proposal.version is not None and doc.version != proposal.version:
            await self.expire(
                proposal_id,
                f"the document changed (version {proposal.version} → {doc.version})",
            )
            raise StaleDocument(
                f"{proposal.path} changed since this proposal was made (version "
                f"{proposal.version} → {doc.version}); it has expired, ask again"
            )
        chosen_text, all_hunks = self._candidate(proposal, candidate)
        if hunks:
            wanted = sorted(set(hunks))
            bad = [i for i in wanted if not 0 <= i < len(all_hunks)]
            if bad:
                raise BadRequest(
                    f"proposal {proposal_id} has hunks 0..{len(all_hunks) - 1}; "
                    f"no hunk {', '.join(map(str, bad))}"
                )
            selected = [all_hunks[i] for i in wanted]
            text = apply_hunks(proposal.original, selected)
            hunk_ids: list[int] | None = wanted if len(wanted) < len(all_hunks) else None
        else:
            selected, text, hunk_ids = all_hunks, chosen_text, None
        expected = None
        if doc is not None:
            try:
                start, end = check_range(doc.text, proposal.range)
            except RangeError:
                start = end = -1
            if start < 0 or doc.text[start:end] != proposal.original:
                await self.expire(proposal_id, "the document no longer holds the original text")
                raise StaleDocument(
                    f"{proposal.path} no longer holds the text this proposal was made on; "
                    "it has expired"
                )
            expected = doc.text[:start] + text + doc.text[end:]
        self.live.busy.add(proposal_id)
        return AcceptPlan(
            proposal=proposal,
            uri=proposal.uri,
            version=proposal.version,
            edits=[TextEdit(range=h.range, new_text=h.new_text) for h in selected],
            hunks=hunk_ids,
            hunks_total=len(all_hunks),
            candidate=candidate,
            text=text,
            expected=expected,
        )

    @staticmethod
    def _candidate(proposal: Proposal, candidate: int | None) -> tuple[str, list[Hunk]]:
        if candidate is None or candidate == proposal.chosen_candidate:
            hunks = proposal.hunks or make_hunks(
                proposal.original, proposal.proposed, proposal.range.start
            )
            return proposal.proposed, hunks
        if not 0 <= candidate < len(proposal.candidates):
            raise BadRequest(
                f"proposal {proposal.id} has {len(proposal.candidates)} candidate(s); "
                f"no candidate {candidate}"
            )
        text = proposal.candidates[candidate].text
        return text, make_hunks(proposal.original, text, proposal.range.start)

    def release(self, plan: AcceptPlan) -> None:
        self.live.busy.discard(plan.proposal.id)

    async def accept(
        self,
        plan: AcceptPlan | str,
        hunks: Sequence[int] | None = None,
        candidate: int | None = None,
        *,
        decision: PolicyDecision | None = None,
        reason: str | None = None,
    ) -> DecisionRecord:
        """Record an applied accept (by the user, or by the policy when `decision` is given).

        Editors pass the plan they applied; callers without an editor (benchmarks, the
        CLI) may pass a proposal id, hunks and candidate, and the plan is made here. Some
        of the hunks is its own outcome, PARTLY_ACCEPTED; `reason` says why the others
        were rejected.
        """
        if isinstance(plan, str):
            plan = await self.plan_accept(plan, hunks, candidate)
        proposal = plan.proposal
        try:
            if decision is None:
                partly = plan.hunks is not None
                record = await self.recorder.record(
                    Outcome.PARTLY_ACCEPTED if partly else Outcome.ACCEPTED,
                    actor=Actor.USER,
                    proposal_id=proposal.id,
                    reason=reason.strip() if reason and reason.strip() else None,
                    hunks=plan.hunks,
                    candidate=plan.candidate,
                    before=proposal.original,
                    after=plan.text,
                    data={"hunks_total": plan.hunks_total} if partly else None,
                )
            else:
                record = await self.recorder.record(
                    Outcome.AUTO_APPLIED,
                    actor=Actor.POLICY,
                    proposal_id=proposal.id,
                    reason=decision.reason,
                    before=proposal.original,
                    after=plan.text,
                    data={"policy": decision.numbers},
                )
        finally:
            self.release(plan)
        self.live.drop(proposal)
        self.corrections.watch(proposal, Outcome.CORRECTED, plan.text, plan.expected)
        return record

    async def reject(
        self, proposal_id: str, reason: str | None = None, *, data: dict[str, Any] | None = None
    ) -> DecisionRecord:
        proposal = await self._pending(proposal_id)
        if proposal_id in self.live.busy:
            raise ProposalBusy(f"proposal {proposal_id} is being applied; it cannot be rejected")
        reason = reason.strip() if reason and reason.strip() else None
        record = await self.recorder.record(
            Outcome.REJECTED,
            actor=Actor.USER,
            proposal_id=proposal_id,
            reason=reason,
            before=proposal.original,
            after=proposal.proposed,
            data=data,
        )
        self.live.drop(proposal)
        doc = self.docs.get(proposal.uri)
        if doc is not None and doc.version == proposal.version:
            self.corrections.watch(proposal, Outcome.REWRITTEN, proposal.original, doc.text)
        return record

    async def expire(self, proposal_id: str, reason: str = "expired") -> DecisionRecord | None:
        """Record that a proposal went stale; None when it was decided meanwhile."""
        try:
            proposal = await self.get_proposal(proposal_id)
            if proposal.state is not ProposalState.PENDING:
                return None
            record = await self.recorder.record(
                Outcome.EXPIRED, actor=Actor.SYSTEM, proposal_id=proposal_id, reason=reason
            )
        except InvalidTransition:
            return None
        finally:
            self.live.busy.discard(proposal_id)
        self.live.drop(proposal)
        return record

    async def expire_all(self, proposals: Iterable[Proposal], version: int | None) -> None:
        for p in proposals:
            await self.expire(
                p.id, f"the document changed under it (version {p.version} → {version})"
            )

    async def correct(self, proposal_id: str, text: str) -> DecisionRecord:
        """Record a correction directly (the LSP server detects them by itself)."""
        return await self.recorder.record(
            Outcome.CORRECTED, actor=Actor.USER, proposal_id=proposal_id, after=text
        )
