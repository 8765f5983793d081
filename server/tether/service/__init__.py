"""TetherService: the one façade over store, profile, memory, agent and training.

The language server, the CLI and the benchmarks all drive Tether through this class, so
the rules live in one place: which proposals the policy shows, when a proposal has gone
stale, what counts as a correction, and that every decision is recorded (and observed by
the profile and the memory) before anyone is told about it. It knows nothing of LSP: the
front end hands it documents, ranges and verdicts, and hears back through
`ServiceEvents`.

The façade only wires and delegates; each part has one job:

- `documents.DocumentMirror`    the open documents' text and versions
- `components.Components`       the lazily built spec, profile, memory, agent, trainer
- `recorder.Recorder`           log first, then profile and memory, then the front end
- `proposing.Proposing`         request → agent → recorded proposals → policy
- `verdicts.Verdicts`           accept / reject / expire
- `corrections.CorrectionWatcher` the user's rewrites after a verdict
- `reviews.ReviewOnSave`        background review after a save
- `training.TrainingControl`    train now, cancel, the scheduler
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tether.agent import AgentRequest, AgentSpec, TaskSpec
from tether.config import Settings
from tether.core.diff import unified
from tether.core.tracking import Edit
from tether.core.types import Proposal, Range
from tether.decisions import (
    DecisionRecord,
    DecisionStore,
    HistoryFilter,
    HistoryPage,
    VerifyResult,
)
from tether.paths import WorkspacePaths
from tether.profile.models import PolicyDecision
from tether.profile.policy import PIN_MODES
from tether.profile.store import ProfileStore
from tether.profile.view import profile_view
from tether.service.background import Background
from tether.service.components import Components
from tether.service.context import Context
from tether.service.corrections import CorrectionWatcher
from tether.service.documents import Document, DocumentMirror, relative_path, uri_to_path
from tether.service.errors import (
    AgentFailed,
    BadRequest,
    DocumentTooLarge,
    ProposalBusy,
    ProposalNotFound,
    ProposalNotPending,
    ServiceError,
    StaleDocument,
    StaleWork,
    TrainingBusy,
    UnknownDocument,
    WorkCancelled,
)
from tether.service.events import ServiceEvents
from tether.service.live import LiveProposals
from tether.service.proposing import Proposing
from tether.service.recorder import Recorder
from tether.service.reviews import ReviewOnSave
from tether.service.training import TrainingControl
from tether.service.values import (
    AcceptPlan,
    PlannedProposal,
    ProposeOutcome,
    TextChange,
    TextEdit,
)
from tether.service.verdicts import Verdicts

if TYPE_CHECKING:
    from tether.agent import Agent
    from tether.memory import Memory
    from tether.training import TrainingManager

__all__ = [
    "CLOSE_GRACE_SECONDS",
    "HEAVY_MODULES",
    "AcceptPlan",
    "AgentFailed",
    "BadRequest",
    "Document",
    "DocumentTooLarge",
    "PlannedProposal",
    "ProposalBusy",
    "ProposalNotFound",
    "ProposalNotPending",
    "ProposeOutcome",
    "ServiceError",
    "ServiceEvents",
    "StaleDocument",
    "StaleWork",
    "TetherService",
    "TextChange",
    "TextEdit",
    "TrainingBusy",
    "UnknownDocument",
    "WorkCancelled",
    "relative_path",
    "uri_to_path",
]

#: How long closing waits for background work (recording, memory) before cancelling it.
CLOSE_GRACE_SECONDS = 5.0
#: Modules that must never be imported while the server starts (checked by tests and doctor).
HEAVY_MODULES = ("torch", "transformers", "trl", "peft", "datasets", "litellm")


class TetherService:
    """One workspace's Tether. Use `await TetherService.open(workspace, settings)`."""

    def __init__(
        self,
        workspace: Path,
        settings: Settings,
        paths: WorkspacePaths,
        store: DecisionStore,
        events: ServiceEvents | None = None,
    ) -> None:
        ctx = Context(workspace, settings, paths, store, events or ServiceEvents())
        self.ctx = ctx
        self.background = Background(ctx)
        self.components = Components(ctx)
        self.docs = DocumentMirror(ctx)
        self.live = LiveProposals(ctx)
        self.recorder = Recorder(ctx, self.components, self.background)
        self.corrections = CorrectionWatcher(ctx, self.docs, self.recorder, self.background)
        self.verdicts = Verdicts(ctx, self.docs, self.live, self.recorder, self.corrections)
        self.proposing = Proposing(
            ctx, self.docs, self.live, self.components, self.recorder, self.verdicts
        )
        self.reviews = ReviewOnSave(
            ctx, self.docs, self.components, self.proposing, self.background
        )
        self.trainer = TrainingControl(ctx, self.components)
        self.recorder.on_matured = self.trainer.matured
        self._closed = False

    # ------------------------------------------------------------------ shared state
    @property
    def workspace(self) -> Path:
        return self.ctx.workspace

    @property
    def paths(self) -> WorkspacePaths:
        return self.ctx.paths

    @property
    def store(self) -> DecisionStore:
        return self.ctx.store

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def events(self) -> ServiceEvents:
        return self.ctx.events

    @events.setter
    def events(self, events: ServiceEvents) -> None:
        self.ctx.events = events

    @property
    def rng(self) -> random.Random:
        """The policy's random draws (exploration); benchmarks seed it."""
        return self.ctx.rng

    @rng.setter
    def rng(self, rng: random.Random) -> None:
        self.ctx.rng = rng

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    async def open(
        cls,
        workspace: Path,
        settings: Settings,
        *,
        events: ServiceEvents | None = None,
        db: Path | None = None,
        create: bool = True,
    ) -> TetherService:
        workspace = Path(workspace).expanduser().resolve()
        paths = WorkspacePaths(workspace, settings.data_root)
        store = await DecisionStore.open(
            db or paths.db, create=create, checkpoint_every=settings.checkpoint_every
        )
        return cls(workspace, settings, paths, store, events)

    async def close(self) -> None:
        """Record pending corrections, stop background work, close the store."""
        if self._closed:
            return
        await self.corrections.close()
        self.proposing.stop_all("the server is shutting down")
        self.reviews.close()
        await self.trainer.stop_scheduler()
        await self.background.close(CLOSE_GRACE_SECONDS)
        await self.components.close()
        self._closed = True
        await self.store.close()

    def update_settings(self, settings: Settings) -> list[str]:
        """Adopt new settings; returns notes about the ones that need a restart."""
        notes: list[str] = []
        if settings.data_root != self.settings.data_root:
            notes.append("home (the data root) changes take effect when the server restarts")
            settings = settings.model_copy(update={"home": self.settings.home})
        old = self.settings
        self.ctx.settings = settings
        profile = self.components.profile
        # The class key's parts decide how the profile reads every key (its task and kind):
        # a change rebuilds it from the log, as a policy change does.
        if profile is not None and (
            settings.policy != old.policy or settings.classes.parts != old.classes.parts
        ):
            self.background.spawn(profile.reconfigure(settings), "profile settings")
        self.trainer.settings_changed()
        return notes

    async def idle(self) -> None:
        """Wait for background recording to finish (tests and benchmarks)."""
        await self.background.idle()

    # ------------------------------------------------------------------ components
    def spec(self) -> AgentSpec:
        """The agent spec, re-read when its files change (SpecError if invalid)."""
        return self.components.spec()

    def tasks(self) -> list[TaskSpec]:
        return self.components.tasks()

    async def profile_store(self) -> ProfileStore:
        return await self.components.profile_store()

    async def memory(self) -> Memory:
        return await self.components.memory()

    def use_agent(self, agent: Agent) -> None:
        """Use this agent from now on, whatever the settings say (benchmarks, tests)."""
        self.components.use_agent(agent)

    async def agent(self) -> Agent:
        return await self.components.agent()

    def training(self) -> TrainingManager:
        return self.components.training()

    # ------------------------------------------------------------------ documents
    def open_document(self, uri: str, language: str, version: int | None, text: str) -> None:
        self.docs.open(uri, language, version, text)

    def version_of(self, uri: str) -> int | None:
        return self.docs.version_of(uri)

    def document(self, uri: str) -> Document:
        return self.docs.document(uri)

    def change_document(self, uri: str, version: int | None, changes: Sequence[TextChange]) -> None:
        """Apply edits in order; stale work on the document is dropped and watches follow."""
        changed = self.docs.change(uri, version, changes)
        if changed is not None:
            self._after_change(uri, version, *changed)

    def document_changed(
        self, uri: str, version: int | None, text: str, edits: Sequence[Edit]
    ) -> None:
        """The front end applied a change itself (pygls' workspace): adopt its text and
        follow the edits it made, as `change_document` does with the changes."""
        doc = self.docs.changed(uri, version, text)
        if doc is not None:
            self._after_change(uri, version, doc, list(edits))

    def _after_change(
        self, uri: str, version: int | None, doc: Document, edits: list[Edit]
    ) -> None:
        self.proposing.stop_jobs(uri, f"{doc.path} changed while the agent was working")
        self.reviews.drop(uri)  # the next save reviews the new text
        self.corrections.follow(uri, doc.text, edits)
        stale = self.live.stale(uri, version)
        if stale:
            self.background.spawn(
                self.verdicts.expire_all(stale, version), "expiring stale proposals"
            )
        self.trainer.typing()

    async def save_document(self, uri: str) -> None:
        """Saving ends the correction window early; it may also start a background review."""
        await self.corrections.finish_on(uri)
        self.reviews.saved(uri)

    async def close_document(self, uri: str) -> None:
        """Closing ends watches (recording rewrites) and expires the proposals shown on it."""
        await self.corrections.finish_on(uri)
        for proposal in self.live.on(uri):
            if proposal.id not in self.live.busy:
                await self.verdicts.expire(proposal.id, "the document was closed")
        self.reviews.drop(uri, forget=True)
        self.proposing.stop_jobs(uri, "the document was closed")
        self.docs.close(uri)

    def size_problem(self, doc: Document) -> str | None:
        """Why Tether will not propose on a document this big, or None."""
        return self.docs.size_problem(doc)

    def live_proposals(self, uri: str | None = None) -> list[Proposal]:
        """Pending proposals shown in the editor (for diagnostics and code actions)."""
        return self.live.on(uri)

    # ------------------------------------------------------------------ proposing
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
        return self.proposing.request_for(uri, rng, task, version=version, diagnostics=diagnostics)

    async def propose(
        self,
        req: AgentRequest,
        *,
        cancel: asyncio.Event | None = None,
        meta: dict[str, Any] | None = None,
    ) -> ProposeOutcome:
        """Run the agent, record its proposals and decide each one's fate with the policy."""
        return await self.proposing.propose(req, cancel=cancel, meta=meta)

    async def decide(self, proposal: Proposal) -> PolicyDecision:
        return await self.proposing.decide(proposal)

    def show(self, proposal: Proposal) -> None:
        """Show a proposal the policy did not (an auto apply the editor refused to ask about)."""
        self.proposing.show(proposal)

    def hide(self, proposal: Proposal) -> None:
        """Stop showing a proposal without recording anything (the HTTP API's proposals)."""
        self.proposing.hide(proposal)

    # ------------------------------------------------------------------ verdicts
    async def get_proposal(self, proposal_id: str) -> Proposal:
        return await self.verdicts.get_proposal(proposal_id)

    async def pending_proposal(self, proposal_id: str) -> Proposal:
        """A proposal that still takes a verdict (ProposalNotPending otherwise)."""
        return await self.verdicts.pending_proposal(proposal_id)

    async def plan_accept(
        self, proposal_id: str, hunks: Sequence[int] | None = None, candidate: int | None = None
    ) -> AcceptPlan:
        """Check an accept and work out its edit; the proposal is held until release()."""
        return await self.verdicts.plan_accept(proposal_id, hunks, candidate)

    def release(self, plan: AcceptPlan) -> None:
        self.verdicts.release(plan)

    async def accept(
        self,
        plan: AcceptPlan | str,
        hunks: Sequence[int] | None = None,
        candidate: int | None = None,
        *,
        decision: PolicyDecision | None = None,
        reason: str | None = None,
    ) -> DecisionRecord:
        """Record an applied accept (see `Verdicts.accept`)."""
        return await self.verdicts.accept(plan, hunks, candidate, decision=decision, reason=reason)

    async def reject(
        self, proposal_id: str, reason: str | None = None, *, data: dict[str, Any] | None = None
    ) -> DecisionRecord:
        return await self.verdicts.reject(proposal_id, reason, data=data)

    async def expire(self, proposal_id: str, reason: str = "expired") -> DecisionRecord | None:
        """Record that a proposal went stale; None when it was decided meanwhile."""
        return await self.verdicts.expire(proposal_id, reason)

    async def correct(self, proposal_id: str, text: str) -> DecisionRecord:
        """Record a correction directly (the LSP server detects them by itself)."""
        return await self.verdicts.correct(proposal_id, text)

    # ------------------------------------------------------------------ reading
    async def history(
        self, flt: HistoryFilter | None = None, *, offset: int = 0, limit: int = 50
    ) -> HistoryPage:
        if offset < 0:
            raise BadRequest(f"offset must be 0 or more, not {offset}")
        if not 1 <= limit <= 1000:
            raise BadRequest(f"limit must be between 1 and 1000, not {limit}")
        return await self.store.history(flt, offset=offset, limit=limit)

    async def proposal_view(self, proposal_id: str) -> dict[str, Any]:
        """A proposal with its hunks, texts, current state, diff and decisions."""
        proposal = await self.get_proposal(proposal_id)
        body = proposal.model_dump(mode="json")
        body["diff"] = unified(proposal.original, proposal.proposed, proposal.path)
        body["decisions"] = [
            r.model_dump(mode="json") for r in await self.store.decisions_for(proposal_id)
        ]
        body["live"] = proposal_id in self.live
        return body

    async def profile_view(self) -> dict[str, Any]:
        profile = await self.profile_store()
        await profile.refresh()
        view = profile_view(profile.profile, await self.store.pins())
        return {
            "classes": [c.model_dump(mode="json") for c in view.classes],
            "profile": view.model_copy(update={"classes": []}).model_dump(mode="json"),
            "adapters": [a.model_dump(mode="json") for a in await self.store.adapters()],
            "training": self.training_status(),
        }

    async def pin(self, class_key: str, mode: str | None) -> DecisionRecord:
        if mode is not None and mode not in PIN_MODES:
            raise BadRequest(
                f"pin mode must be one of {', '.join(PIN_MODES)} or null, not {mode!r}"
            )
        if not class_key.strip():
            raise BadRequest("classKey must not be empty")
        record = await self.store.set_pin(class_key, mode)
        await self.recorder.observed(record)
        return record

    async def verify(self) -> VerifyResult:
        return await self.store.verify()

    # ------------------------------------------------------------------ training
    def training_status(self) -> dict[str, Any]:
        return self.trainer.status()

    def training_running(self) -> bool:
        return self.trainer.running()

    def start_training(self, on_progress: Callable[[Any], None] | None = None) -> asyncio.Task[Any]:
        """Start `train_now` in the background; TrainingBusy when a run is already going."""
        return self.trainer.start(on_progress)

    async def train_now(self, on_progress: Callable[[Any], None] | None = None) -> Any:
        """Train an adapter now; progress goes to `on_progress` and `training_status`."""
        return await self.trainer.train_now(on_progress)

    def start_scheduler(self) -> None:
        """Train by itself when the profile is mature (see `TrainingControl.start_scheduler`)."""
        self.trainer.start_scheduler()

    async def cancel_training(self) -> bool:
        return await self.trainer.cancel()
