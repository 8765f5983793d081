"""Proposing: check a request against the document and the spec, run the agent (one model
call at a time per workspace), record its proposals and let the policy decide each one's
fate (shown, applied, or kept quiet). Work on a document that changes is dropped."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tether.agent import AgentRequest, ProviderError, SpecError
from tether.core.definitions import selects_whole_definition
from tether.core.text import RangeError, check_range
from tether.core.types import Actor, Outcome, Proposal, Range
from tether.profile.models import PolicyDecision
from tether.service.components import Components
from tether.service.context import Context
from tether.service.documents import DocumentMirror
from tether.service.errors import (
    AgentFailed,
    BadRequest,
    DocumentTooLarge,
    StaleDocument,
    StaleWork,
    WorkCancelled,
)
from tether.service.live import LiveProposals
from tether.service.recorder import Recorder
from tether.service.values import PlannedProposal, ProposeOutcome
from tether.service.verdicts import Verdicts


@dataclass(eq=False)
class Job:
    uri: str
    version: int | None
    cancel: asyncio.Event
    reason: str = ""
    stale: bool = False

    def stop(self, reason: str, *, stale: bool = False) -> None:
        if not self.cancel.is_set():
            self.reason, self.stale = reason, stale
            self.cancel.set()

    def error(self) -> WorkCancelled:
        if self.stale:
            return StaleWork(self.reason)
        return WorkCancelled(self.reason or "cancelled")


class Proposing:
    def __init__(
        self,
        ctx: Context,
        docs: DocumentMirror,
        live: LiveProposals,
        components: Components,
        recorder: Recorder,
        verdicts: Verdicts,
    ) -> None:
        self.ctx = ctx
        self.docs = docs
        self.live = live
        self.components = components
        self.recorder = recorder
        self.verdicts = verdicts
        self.jobs: set[Job] = set()
        self.model_lock = asyncio.Lock()  # one model call at a time per workspace

    def stop_jobs(self, uri: str, reason: str) -> None:
        """Drop the agent's work on `uri` (the document changed or closed)."""
        for job in list(self.jobs):
            if job.uri == uri:
                job.stop(reason, stale=True)

    def stop_all(self, reason: str) -> None:
        for job in list(self.jobs):
            job.stop(reason)

    def request_for(
        self,
        uri: str,
        rng: Range,
        task: str,
        *,
        version: int | None = None,
        diagnostics: Sequence[Any] = (),
    ) -> AgentRequest:
        """Check a propose request against the document and the spec; build the agent's input."""
        doc = self.docs.open_or_read(uri)
        problem = self.docs.size_problem(doc)
        if problem:
            raise DocumentTooLarge(problem)
        if version is not None and doc.version is not None and version != doc.version:
            raise StaleDocument(f"{doc.path} is at version {doc.version}, not {version}; ask again")
        try:
            check_range(doc.text, rng)
        except RangeError as exc:
            raise BadRequest(f"range is not in {doc.path}: {exc}") from None
        try:
            spec = self.components.spec()
        except SpecError as exc:
            raise BadRequest(f"the agent spec is invalid: {exc}") from None
        found = spec.task(task)  # any case, or the task's title
        if found is None:
            names = ", ".join(t.name for t in spec.tasks)
            raise BadRequest(f"unknown task {task!r} (the agent spec has: {names})")
        return AgentRequest(
            uri=uri,
            path=doc.path,
            language=doc.language,
            text=doc.text,
            version=doc.version,
            range=rng,
            task=found.name,
            diagnostics=list(diagnostics),
        )

    async def propose(
        self,
        req: AgentRequest,
        *,
        cancel: asyncio.Event | None = None,
        meta: dict[str, Any] | None = None,
    ) -> ProposeOutcome:
        """Run the agent, record its proposals and decide each one's fate with the policy.

        Raises WorkCancelled when the request was cancelled or the document changed
        meanwhile (nothing is recorded then), AgentFailed when no proposal came back and
        the provider failed. `meta` is added to each proposal's meta before it is recorded
        (the user's own words, the proposal it replaces).
        """
        job = Job(req.uri, req.version, cancel or asyncio.Event())
        self.jobs.add(job)
        try:
            agent = await self.components.agent()
            async with self.model_lock:
                doc = self.docs.get(req.uri)
                if doc is not None and req.version is not None and doc.version != req.version:
                    job.stop(f"{doc.path} changed before the agent started", stale=True)
                if job.cancel.is_set():
                    raise job.error()
                try:
                    result = await agent.propose(req, cancel=job.cancel)
                except asyncio.CancelledError:
                    job.stop("cancelled")
                    raise
        except SpecError as exc:
            raise BadRequest(f"the agent spec is invalid: {exc}") from None
        except ProviderError as exc:
            if job.cancel.is_set():
                raise job.error() from None
            raise AgentFailed(f"the model could not answer: {exc}") from None
        finally:
            self.jobs.discard(job)
        if job.cancel.is_set():
            raise job.error()
        for proposal in result.proposals:
            for key, value in (meta or {}).items():
                proposal.meta.setdefault(key, value)
        admission = asyncio.get_running_loop().create_task(self._admit_all(result.proposals))
        try:
            outcome = await asyncio.shield(admission)  # recording is never half done
        except asyncio.CancelledError:
            admission.add_done_callback(self._show_unpresented)
            raise
        outcome.failures = list(result.failures)
        if not outcome.proposals and outcome.failures:
            whole = selects_whole_definition(req.text, req.range)
            raise AgentFailed.nothing_survived(outcome.failures, result.tried, whole)
        return outcome

    def _show_unpresented(self, admission: asyncio.Task[ProposeOutcome]) -> None:
        """The caller went away before applying `auto` proposals: show them instead."""
        if admission.cancelled() or admission.exception() is not None:
            return
        for planned in admission.result().auto:
            self.show(planned.proposal)

    async def _admit_all(self, proposals: Sequence[Proposal]) -> ProposeOutcome:
        outcome = ProposeOutcome()
        for proposal in proposals:
            outcome.proposals.append(await self._admit(proposal))
        return outcome

    async def _admit(self, proposal: Proposal) -> PlannedProposal:
        """Record a fresh proposal and apply the policy to it."""
        record = await self.ctx.store.add_proposal(proposal)
        await self.recorder.observed(record)
        decision = await self.decide(proposal)
        if decision.mode == "quiet":
            await self.recorder.record(
                Outcome.SUPPRESSED,
                actor=Actor.POLICY,
                proposal_id=proposal.id,
                reason=decision.reason,
                data={"policy": decision.numbers},
            )
        elif decision.mode == "ask":
            doc = self.docs.get(proposal.uri)
            if doc is not None and proposal.version is not None and doc.version != proposal.version:
                await self.verdicts.expire(
                    proposal.id, "the document changed while it was being recorded"
                )
            else:
                self.live.show(proposal)
        return PlannedProposal(proposal=proposal, decision=decision, record_seq=record.seq)

    async def decide(self, proposal: Proposal) -> PolicyDecision:
        profile = await self.components.profile_store()
        always_ask = False
        with contextlib.suppress(SpecError):
            always_ask = proposal.task in self.components.spec().boundaries.always_ask
        return profile.profile.decide(
            proposal.class_key,
            proposal.risk,
            pins=await self.ctx.store.pins(),
            always_ask=always_ask,
            rng=self.ctx.rng,
        )

    def show(self, proposal: Proposal) -> None:
        """Show a proposal the policy did not (an auto apply the editor refused to ask about)."""
        self.live.show(proposal)

    def hide(self, proposal: Proposal) -> None:
        """Stop showing a proposal without recording anything: proposals made through
        `tether serve`'s API are decided through the API, never in an editor."""
        self.live.drop(proposal)
