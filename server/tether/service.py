"""TetherService: the one façade over store, profile, memory, agent and training.

The language server, the CLI and the benchmarks all drive Tether through this class, so
the rules live in one place: which proposals the policy shows, when a proposal has gone
stale, what counts as a correction, and that every decision is recorded (and observed by
the profile and the memory) before anyone is told about it. It knows nothing of LSP: the
front end hands it documents, ranges and verdicts, and hears back through
`ServiceEvents`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from pydantic import BaseModel, ConfigDict, Field

from tether.agent import AgentRequest, AgentSpec, ProviderError, SpecError, TaskSpec, load_spec
from tether.config import Settings
from tether.core.diff import apply_hunks, make_hunks, unified
from tether.core.text import RangeError, check_range, full_lines, offset_at
from tether.core.tracking import Edit, Span, trimmed_edit, whole_text_edit
from tether.core.types import Actor, Hunk, Outcome, Proposal, ProposalState, Range
from tether.decisions import (
    DecisionRecord,
    DecisionStore,
    HistoryFilter,
    HistoryPage,
    InvalidTransition,
    StoreError,
    UnknownProposal,
    VerifyResult,
)
from tether.paths import WorkspacePaths
from tether.profile.models import PolicyDecision
from tether.profile.policy import PIN_MODES
from tether.profile.store import ProfileStore
from tether.profile.view import profile_view

if TYPE_CHECKING:
    from tether.agent import Agent
    from tether.memory import Memory
    from tether.training import TrainingManager

log = logging.getLogger(__name__)

#: How long closing waits for background work (recording, memory) before cancelling it.
CLOSE_GRACE_SECONDS = 5.0
#: Modules that must never be imported while the server starts (checked by tests and doctor).
HEAVY_MODULES = ("torch", "transformers", "trl", "peft", "datasets", "litellm")


# --------------------------------------------------------------------------- errors
class ServiceError(Exception):
    """A request the service cannot carry out; the message is for the user, as is."""

    kind = "error"


class BadRequest(ServiceError):
    """Arguments that do not make sense (a range past the end, an unknown task…)."""

    kind = "bad_request"


class UnknownDocument(BadRequest):
    kind = "unknown_document"


class DocumentTooLarge(BadRequest):
    kind = "too_large"


class ProposalNotFound(BadRequest):
    kind = "unknown_proposal"


class ProposalNotPending(ServiceError):
    """The proposal was already decided (or expired); nothing more can be done with it."""

    kind = "not_pending"


class ProposalBusy(ServiceError):
    """Another accept of the same proposal is in flight."""

    kind = "busy"


class StaleDocument(ServiceError):
    """The document moved on from the version the work was about."""

    kind = "stale"


class WorkCancelled(ServiceError):
    """The agent's work was dropped: cancelled, or made stale by an edit."""

    kind = "cancelled"


class StaleWork(WorkCancelled):
    """The document changed under the agent's work; its result would not fit any more."""

    kind = "stale"


class AgentFailed(ServiceError):
    """The model provider is down or answered with nothing usable."""

    kind = "agent_failed"

    def __init__(self, message: str, failures: Sequence[str] = ()) -> None:
        super().__init__(message)
        # the raw reasons nothing survived (tether.core.messages.no_proposal words them)
        self.failures = list(failures)


class TrainingBusy(ServiceError):
    kind = "training_busy"


# --------------------------------------------------------------------------- events
class ServiceEvents:
    """What the service tells its front end; every method is a no-op here.

    Called synchronously from the service's own task; implementations must not block
    (the language server only queues notifications).
    """

    def decision_recorded(self, record: DecisionRecord) -> None:
        """After every row the service appends (the row is durable by then)."""

    def proposals_changed(self, uri: str) -> None:
        """The set of pending proposals on `uri` changed (republish diagnostics)."""

    def review_ready(self, uri: str, outcome: ProposeOutcome) -> None:
        """A background review (on save) produced proposals that need presenting."""

    def training_status(self, status: dict[str, Any]) -> None:
        """Training moved on (started, progressed, finished)."""

    def problem(self, message: str) -> None:
        """Something went wrong in background work the user did not wait on."""


# --------------------------------------------------------------------------- values
class TextChange(BaseModel):
    """One content change as editors send it: a range of the current text, or all of it."""

    model_config = ConfigDict(frozen=True)

    range: Range | None = None
    text: str


class PlannedProposal(BaseModel):
    """A recorded proposal and what the policy decided to do with it."""

    proposal: Proposal
    decision: PolicyDecision
    record_seq: int


class ProposeOutcome(BaseModel):
    proposals: list[PlannedProposal] = Field(default_factory=list)
    failures: list[str] = Field(default_factory=list)

    @property
    def shown(self) -> list[PlannedProposal]:
        return [p for p in self.proposals if p.decision.mode == "ask"]

    @property
    def auto(self) -> list[PlannedProposal]:
        return [p for p in self.proposals if p.decision.mode == "auto"]

    @property
    def suppressed(self) -> list[PlannedProposal]:
        return [p for p in self.proposals if p.decision.mode == "quiet"]


class TextEdit(BaseModel):
    range: Range
    new_text: str


class AcceptPlan(BaseModel):
    """What an accept will change; the front end applies `edits` to `uri` at `version`."""

    proposal: Proposal
    uri: str
    version: int | None
    edits: list[TextEdit]
    hunks: list[int] | None  # None: all of them
    hunks_total: int = 0  # how many hunks the chosen candidate has
    candidate: int | None
    text: str  # the replacement of the proposal's range after the edit
    expected: str | None  # the whole document after the edit (None: document not open)


@dataclass
class Document:
    uri: str
    path: str
    language: str
    version: int | None
    text: str


@dataclass(eq=False)
class _Watch:
    """An accepted or rejected range being watched for the user rewriting it."""

    proposal_id: str
    uri: str
    outcome: Outcome  # CORRECTED or REWRITTEN
    baseline: str  # text the range holds right after the decision
    span: Span | None  # None until the document shows the decision's text
    expected: str | None  # whole text that arms the watch
    start: int  # where the span starts once armed
    timer: asyncio.TimerHandle | None = None


@dataclass(eq=False)
class _Job:
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


@dataclass(eq=False)
class _Review:
    """A review waiting out its debounce, or running; `cancel` drops it (a newer save)."""

    version: int | None
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


@dataclass
class _Components:
    profile: ProfileStore | None = None
    memory: Any = None
    agent: Any = None
    agent_key: tuple[Any, ...] | None = None
    agent_pinned: bool = False
    training: Any = None
    spec: AgentSpec | None = None
    spec_key: tuple[Any, ...] | None = None
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def lock(self, name: str) -> asyncio.Lock:
        return self.locks.setdefault(name, asyncio.Lock())


# --------------------------------------------------------------------------- helpers
def uri_to_path(uri: str) -> Path | None:
    """The local file behind a `file:` URI, or None for other schemes (untitled:, …)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path)
    if os.name == "nt" and path.startswith("/") and len(path) > 2 and path[2] == ":":
        path = path[1:]
    return Path(path)


def relative_path(workspace: Path, uri: str) -> str:
    """Workspace-relative POSIX path of a document (absolute when it lies outside)."""
    local = uri_to_path(uri)
    if local is None:
        return uri
    try:
        return local.resolve().relative_to(workspace).as_posix()
    except ValueError:
        return local.as_posix()


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


# --------------------------------------------------------------------------- the service
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
        self.workspace = workspace
        self.settings = settings
        self.paths = paths
        self.store = store
        self.events = events or ServiceEvents()
        self.rng = random.Random()
        self._c = _Components()
        self._docs: dict[str, Document] = {}
        self._live: dict[str, Proposal] = {}  # pending proposals shown in the editor
        self._busy: set[str] = set()  # proposals with an accept in flight
        self._jobs: set[_Job] = set()
        self._reviews: dict[str, _Review] = {}
        self._watches: list[_Watch] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._model_lock = asyncio.Lock()  # one model call at a time per workspace
        self._training_task: asyncio.Task[Any] | None = None
        self._scheduler: Any = None
        self._scheduler_task: asyncio.Task[None] | None = None
        self._closed = False

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
        store = await DecisionStore.open(db or paths.db, create=create)
        return cls(workspace, settings, paths, store, events)

    async def close(self) -> None:
        """Record pending corrections, stop background work, close the store."""
        if self._closed:
            return
        for watch in list(self._watches):
            with contextlib.suppress(ServiceError, StoreError):
                await self._finish_watch(watch)
        for job in list(self._jobs):
            job.stop("the server is shutting down")
        for review in self._reviews.values():
            review.cancel.set()
        if self._scheduler is not None:
            self._scheduler.stop()
        if self._scheduler_task is not None:  # its loop holds no state worth waiting for
            self._scheduler_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._scheduler_task
        if self._tasks:  # let recording finish; stopped work ends at once
            await asyncio.wait(list(self._tasks), timeout=CLOSE_GRACE_SECONDS)
        for task in list(self._tasks):
            task.cancel()
        training = self._c.training
        if training is not None and hasattr(training, "cancel"):
            with contextlib.suppress(Exception):
                await training.cancel()
        if self._c.agent is not None:
            with contextlib.suppress(Exception):
                await self._c.agent.close()
        self._closed = True
        await self.store.close()

    def update_settings(self, settings: Settings) -> list[str]:
        """Adopt new settings; returns notes about the ones that need a restart."""
        notes: list[str] = []
        if settings.data_root != self.settings.data_root:
            notes.append("home (the data root) changes take effect when the server restarts")
            settings = settings.model_copy(update={"home": self.settings.home})
        old = self.settings
        self.settings = settings
        if self._c.profile is not None and settings.policy != old.policy:
            self._spawn(self._c.profile.reconfigure(settings), "profile settings")
        if self._c.training is not None:
            self._c.training.settings = settings.training
        if self._scheduler is not None:
            self._scheduler.settings = settings.training
        return notes

    # ------------------------------------------------------------------ components
    def spec(self) -> AgentSpec:
        """The agent spec, re-read when its files change (SpecError if invalid)."""
        key = tuple(
            (p.stat().st_mtime_ns, p.stat().st_size) if p.is_file() else None
            for p in (self.workspace / ".tether" / "agent.md", self.workspace / "tether.toml")
        )
        if self._c.spec is None or self._c.spec_key != key:
            self._c.spec = load_spec(self.workspace)
            self._c.spec_key = key
        return self._c.spec

    def tasks(self) -> list[TaskSpec]:
        try:
            return list(self.spec().tasks)
        except SpecError as exc:
            log.warning("agent spec: %s", exc)
            return []

    async def profile_store(self) -> ProfileStore:
        async with self._c.lock("profile"):
            if self._c.profile is None:
                self._c.profile = await ProfileStore.load(self.store, self.settings)
            return self._c.profile

    async def memory(self) -> Memory:
        async with self._c.lock("memory"):
            if self._c.memory is None:
                from tether.memory import Memory

                teacher = None
                if self.settings.teacher:  # reflections by the teacher, when one is configured
                    from tether.agent import make_provider

                    teacher = make_provider(
                        self.settings.teacher, self.settings, workspace=self.workspace
                    )
                redact: tuple[str, ...] = ()
                with contextlib.suppress(SpecError):
                    redact = tuple(self.spec().boundaries.redact)
                self._c.memory = Memory(self.store, teacher=teacher, redact_patterns=redact)
            return self._c.memory

    def use_agent(self, agent: Agent) -> None:
        """Use this agent from now on, whatever the settings say (benchmarks, tests)."""
        self._c.agent = agent
        self._c.agent_key = None
        self._c.agent_pinned = True

    async def agent(self) -> Agent:
        """The workspace's agent; rebuilt only when the models or the spec change, so a
        loaded model survives unrelated settings changes."""
        if self._c.agent_pinned:
            return self._c.agent
        spec = self.spec()
        s = self.settings
        async with self._c.lock("agent"):
            key = (s.model, s.teacher, s.ollama_host, self._c.spec_key)
            if self._c.agent is not None and self._c.agent_key == key:
                self._c.agent.settings = s
                return self._c.agent
            if self._c.agent is not None:
                with contextlib.suppress(Exception):
                    await self._c.agent.close()
            from tether.agent import Agent

            self._c.agent = Agent(
                s, spec, await self.memory(), self.workspace, **self._agent_extras()
            )
            self._c.agent_key = key
            return self._c.agent

    def _agent_extras(self) -> dict[str, Any]:
        """The student uses the active adapter, looked up on each proposal."""
        return {"adapters": self._active_adapter}

    async def _active_adapter(self) -> tuple[str, Path] | None:
        row = await self.store.active_adapter()
        return (row.version, Path(row.path)) if row is not None else None

    def training(self) -> TrainingManager:
        if self._c.training is None:
            from tether.training import TrainingManager

            self._c.training = TrainingManager(
                self.store, self.paths, self.settings, base_model=self._training_base()
            )
        return self._c.training

    def _training_base(self) -> Path | None:
        """Adapters are trained for the model the student runs: `training.base_model`, or
        the folder of an `embedded:/path` student; None means the embedded SmolLM2."""
        if self.settings.training.base_model is not None:
            return self.settings.training.base_model.expanduser()
        kind, _, name = self.settings.model.partition(":")
        folder = Path(name).expanduser()
        return folder if kind == "embedded" and folder.is_dir() else None

    # ------------------------------------------------------------------ documents
    def open_document(self, uri: str, language: str, version: int | None, text: str) -> None:
        self._docs[uri] = Document(
            uri=uri,
            path=relative_path(self.workspace, uri),
            language=language,
            version=version,
            text=text,
        )

    def version_of(self, uri: str) -> int | None:
        doc = self._docs.get(uri)
        return doc.version if doc is not None else None

    def document(self, uri: str) -> Document:
        doc = self._docs.get(uri)
        if doc is None:
            raise UnknownDocument(f"{uri} is not open in the editor")
        return doc

    def change_document(self, uri: str, version: int | None, changes: Sequence[TextChange]) -> None:
        """Apply edits in order; stale work on the document is dropped and watches follow."""
        doc = self._docs.get(uri)
        if doc is None:
            return
        edits: list[Edit] = []
        text = doc.text
        for change in changes:
            if change.range is None:
                edit = whole_text_edit(text, change.text)
                new = change.text
            else:
                try:
                    start, end = check_range(text, change.range)
                except RangeError as exc:
                    raise BadRequest(f"change to {uri} is outside the document: {exc}") from None
                edit = trimmed_edit(text, start, end, change.text)
                new = text[:start] + change.text + text[end:]
            if edit is not None:
                edits.append(edit)
            text = new
        doc.text, doc.version = text, version
        for job in list(self._jobs):
            if job.uri == uri:
                job.stop(f"{doc.path} changed while the agent was working", stale=True)
        review = self._reviews.get(uri)
        if review is not None:  # the next save reviews the new text
            review.cancel.set()
        self._follow_watches(uri, text, edits)
        stale = [
            p
            for p in self._live.values()
            if p.uri == uri and p.version != version and p.id not in self._busy
        ]
        if stale:
            for p in stale:
                self._live.pop(p.id, None)
            self.events.proposals_changed(uri)
            self._spawn(self._expire_all(stale, version), "expiring stale proposals")
        if self._scheduler is not None:
            self._scheduler.note_typing()

    async def save_document(self, uri: str) -> None:
        """Saving ends the correction window early; it may also start a background review."""
        for watch in [w for w in self._watches if w.uri == uri]:
            await self._finish_watch(watch)
        if self.settings.review_on_save and uri in self._docs:
            self._schedule_review(uri)

    async def close_document(self, uri: str) -> None:
        """Closing ends watches (recording rewrites) and expires the proposals shown on it."""
        for watch in [w for w in self._watches if w.uri == uri]:
            await self._finish_watch(watch)
        for proposal in self.live_proposals(uri):
            if proposal.id not in self._busy:
                await self.expire(proposal.id, "the document was closed")
        review = self._reviews.pop(uri, None)
        if review is not None:
            review.cancel.set()
        for job in list(self._jobs):
            if job.uri == uri:
                job.stop("the document was closed", stale=True)
        self._docs.pop(uri, None)

    def size_problem(self, doc: Document) -> str | None:
        """Why Tether will not propose on a document this big, or None."""
        size = len(doc.text.encode("utf-8"))
        if size <= self.settings.max_file_bytes:
            return None
        return (
            f"{doc.path} is {size:,} bytes, over the max_file_bytes limit "
            f"({self.settings.max_file_bytes:,}); Tether does not propose on it"
        )

    def live_proposals(self, uri: str | None = None) -> list[Proposal]:
        """Pending proposals shown in the editor (for diagnostics and code actions)."""
        return [p for p in self._live.values() if uri is None or p.uri == uri]

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
        doc = self._docs.get(uri)
        if doc is None:
            doc = self._read_from_disk(uri)
        problem = self.size_problem(doc)
        if problem:
            raise DocumentTooLarge(problem)
        if version is not None and doc.version is not None and version != doc.version:
            raise StaleDocument(f"{doc.path} is at version {doc.version}, not {version}; ask again")
        try:
            check_range(doc.text, rng)
        except RangeError as exc:
            raise BadRequest(f"range is not in {doc.path}: {exc}") from None
        try:
            spec = self.spec()
        except SpecError as exc:
            raise BadRequest(f"the agent spec is invalid: {exc}") from None
        if spec.task(task) is None:
            names = ", ".join(t.name for t in spec.tasks)
            raise BadRequest(f"unknown task {task!r} (the agent spec has: {names})")
        return AgentRequest(
            uri=uri,
            path=doc.path,
            language=doc.language,
            text=doc.text,
            version=doc.version,
            range=rng,
            task=task,
            diagnostics=list(diagnostics),
        )

    def _read_from_disk(self, uri: str) -> Document:
        local = uri_to_path(uri)
        if local is None or not local.is_file():
            raise UnknownDocument(f"{uri} is not open in the editor and is not a local file")
        if local.stat().st_size > self.settings.max_file_bytes:
            raise DocumentTooLarge(
                f"{local} is {local.stat().st_size:,} bytes, over the max_file_bytes limit "
                f"({self.settings.max_file_bytes:,}); Tether does not propose on it"
            )
        try:
            text = local.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BadRequest(f"cannot read {local}: {exc}") from None
        language = {".py": "python"}.get(local.suffix, local.suffix.lstrip(".") or "plaintext")
        return Document(uri, relative_path(self.workspace, uri), language, None, text)

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
        job = _Job(req.uri, req.version, cancel or asyncio.Event())
        self._jobs.add(job)
        try:
            agent = await self.agent()
            async with self._model_lock:
                doc = self._docs.get(req.uri)
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
            self._jobs.discard(job)
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
            raise AgentFailed("no proposal: " + "; ".join(outcome.failures), outcome.failures)
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
        record = await self.store.add_proposal(proposal)
        await self._observed(record, proposal)
        decision = await self.decide(proposal)
        if decision.mode == "quiet":
            await self._record(
                Outcome.SUPPRESSED,
                actor=Actor.POLICY,
                proposal_id=proposal.id,
                reason=decision.reason,
                data={"policy": decision.numbers},
            )
        elif decision.mode == "ask":
            doc = self._docs.get(proposal.uri)
            if doc is not None and proposal.version is not None and doc.version != proposal.version:
                await self.expire(proposal.id, "the document changed while it was being recorded")
            else:
                self._live[proposal.id] = proposal
                self.events.proposals_changed(proposal.uri)
        return PlannedProposal(proposal=proposal, decision=decision, record_seq=record.seq)

    async def decide(self, proposal: Proposal) -> PolicyDecision:
        profile = await self.profile_store()
        always_ask = False
        with contextlib.suppress(SpecError):
            always_ask = proposal.task in self.spec().boundaries.always_ask
        return profile.profile.decide(
            proposal.class_key,
            proposal.risk,
            pins=await self.store.pins(),
            always_ask=always_ask,
            rng=self.rng,
        )

    def show(self, proposal: Proposal) -> None:
        """Show a proposal the policy did not (an auto apply the editor refused to ask about)."""
        self._live[proposal.id] = proposal
        self.events.proposals_changed(proposal.uri)

    def hide(self, proposal: Proposal) -> None:
        """Stop showing a proposal without recording anything: proposals made through
        `tether serve`'s API are decided through the API, never in an editor."""
        self._drop_live(proposal)

    # ------------------------------------------------------------------ reviews on save
    def _schedule_review(self, uri: str) -> None:
        old = self._reviews.pop(uri, None)
        if old is not None:  # a newer save makes the older review stale
            old.cancel.set()
        review = _Review(version=self._docs[uri].version)
        self._reviews[uri] = review
        review.task = self._spawn(self._review(uri, review), "review on save")

    async def _review(self, uri: str, review: _Review) -> None:
        """Debounce, then propose on the whole document; a newer save or an edit drops it."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(review.cancel.wait(), self.settings.review_debounce_ms / 1000)
        try:
            doc = self._docs.get(uri)
            task = self._review_task()
            if review.cancel.is_set() or doc is None or doc.version != review.version:
                return
            if task is None or not doc.text.strip():
                return
            lines = doc.text.split("\n")
            whole = full_lines(doc.text, Range.of(0, 0, len(lines) - 1, 0))
            req = self.request_for(uri, whole, task, version=doc.version)
            outcome = await self.propose(req, cancel=review.cancel)
            self.events.review_ready(uri, outcome)
        except WorkCancelled:
            return
        except ServiceError as exc:
            self.events.problem(
                f"the review of {self._docs[uri].path if uri in self._docs else uri} failed: {exc}"
            )
        finally:
            if self._reviews.get(uri) is review:
                del self._reviews[uri]

    def _review_task(self) -> str | None:
        tasks = self.tasks()
        on_save = [t for t in tasks if "save" in t.when]
        chosen = on_save or tasks
        return chosen[0].name if chosen else None

    # ------------------------------------------------------------------ verdicts
    async def get_proposal(self, proposal_id: str) -> Proposal:
        try:
            return await self.store.get_proposal(proposal_id)
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
        if proposal_id in self._busy:
            raise ProposalBusy(f"proposal {proposal_id} is already being applied")
        doc = self._docs.get(proposal.uri)
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
        self._busy.add(proposal_id)
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
        self._busy.discard(plan.proposal.id)

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
                record = await self._record(
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
                record = await self._record(
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
        self._drop_live(proposal)
        self._watch(proposal, Outcome.CORRECTED, plan.text, plan.expected)
        return record

    async def reject(
        self, proposal_id: str, reason: str | None = None, *, data: dict[str, Any] | None = None
    ) -> DecisionRecord:
        proposal = await self._pending(proposal_id)
        if proposal_id in self._busy:
            raise ProposalBusy(f"proposal {proposal_id} is being applied; it cannot be rejected")
        reason = reason.strip() if reason and reason.strip() else None
        record = await self._record(
            Outcome.REJECTED,
            actor=Actor.USER,
            proposal_id=proposal_id,
            reason=reason,
            before=proposal.original,
            after=proposal.proposed,
            data=data,
        )
        self._drop_live(proposal)
        doc = self._docs.get(proposal.uri)
        if doc is not None and doc.version == proposal.version:
            self._watch(proposal, Outcome.REWRITTEN, proposal.original, doc.text)
        return record

    async def expire(self, proposal_id: str, reason: str = "expired") -> DecisionRecord | None:
        """Record that a proposal went stale; None when it was decided meanwhile."""
        try:
            proposal = await self.get_proposal(proposal_id)
            if proposal.state is not ProposalState.PENDING:
                return None
            record = await self._record(
                Outcome.EXPIRED, actor=Actor.SYSTEM, proposal_id=proposal_id, reason=reason
            )
        except InvalidTransition:
            return None
        finally:
            self._busy.discard(proposal_id)
        self._drop_live(proposal)
        return record

    async def _expire_all(self, proposals: Iterable[Proposal], version: int | None) -> None:
        for p in proposals:
            await self.expire(
                p.id, f"the document changed under it (version {p.version} → {version})"
            )

    async def correct(self, proposal_id: str, text: str) -> DecisionRecord:
        """Record a correction directly (the LSP server detects them by itself)."""
        return await self._record(
            Outcome.CORRECTED, actor=Actor.USER, proposal_id=proposal_id, after=text
        )

    async def rewritten(self, proposal_id: str, text: str) -> DecisionRecord:
        return await self._record(
            Outcome.REWRITTEN, actor=Actor.USER, proposal_id=proposal_id, after=text
        )

    def _drop_live(self, proposal: Proposal) -> None:
        if self._live.pop(proposal.id, None) is not None:
            self.events.proposals_changed(proposal.uri)

    # ------------------------------------------------------------------ corrections
    def _watch(
        self, proposal: Proposal, outcome: Outcome, baseline: str, expected: str | None
    ) -> None:
        window = self.settings.correction_window_seconds
        doc = self._docs.get(proposal.uri)
        if window <= 0 or doc is None or expected is None:
            return
        try:
            start = offset_at(expected, proposal.range.start)
        except RangeError:
            return
        watch = _Watch(
            proposal_id=proposal.id,
            uri=proposal.uri,
            outcome=outcome,
            baseline=baseline,
            span=None,
            expected=expected,
            start=start,
        )
        self._arm(watch, doc.text)
        watch.timer = asyncio.get_running_loop().call_later(
            window, lambda: self._spawn(self._finish_watch(watch), "recording a correction")
        )
        self._watches.append(watch)

    @staticmethod
    def _arm(watch: _Watch, text: str) -> None:
        """Start following the span once the document shows the decision's result."""
        if watch.span is None and text == watch.expected:
            end = watch.start + len(watch.baseline)
            watch.span = Span(
                watch.start,
                end,
                start_at_line_start=watch.start == 0 or text[watch.start - 1] == "\n",
                end_at_line_start=watch.baseline.endswith("\n"),
            )
            watch.expected = None

    def _follow_watches(self, uri: str, text: str, edits: Sequence[Edit]) -> None:
        for watch in self._watches:
            if watch.uri != uri:
                continue
            if watch.span is None:
                self._arm(watch, text)
                continue
            for edit in edits:
                watch.span.apply(edit)

    async def _finish_watch(self, watch: _Watch) -> DecisionRecord | None:
        """End a watch; record the user's rewrite when there was one."""
        if watch not in self._watches:
            return None
        self._watches.remove(watch)
        if watch.timer is not None:
            watch.timer.cancel()
        doc = self._docs.get(watch.uri)
        if doc is None or watch.span is None or not watch.span.touched:
            return None
        final = watch.span.text(doc.text)
        if final == watch.baseline:
            return None
        try:
            return await self._record(
                watch.outcome,
                actor=Actor.USER,
                proposal_id=watch.proposal_id,
                before=watch.baseline,
                after=final,
                data={"window_seconds": self.settings.correction_window_seconds},
            )
        except InvalidTransition:
            return None

    # ------------------------------------------------------------------ recording
    async def _record(self, outcome: Outcome, **kwargs: Any) -> DecisionRecord:
        record = await self.store.record(outcome, **kwargs)
        await self._observed(record)
        return record

    async def _observed(self, record: DecisionRecord, proposal: Proposal | None = None) -> None:
        """Let the profile and memory learn from a row, then tell the front end."""
        try:
            changes = await (await self.profile_store()).observe(record)
        except Exception:  # the log has the row; the profile can always replay it
            log.exception("profile did not observe row %s", record.seq)
            changes = []
        if self._scheduler is not None and any(c.kind == "profile" and c.mature for c in changes):
            self._scheduler.poke()  # the profile just matured: see whether to train now
        if record.proposal_id is not None and record.outcome is not Outcome.PROPOSED:
            self._spawn(self._remember(record, proposal), "memory", quiet=True)
        self.events.decision_recorded(record)

    async def _remember(self, record: DecisionRecord, proposal: Proposal | None) -> None:
        memory = await self.memory()
        if proposal is None and record.proposal_id is not None:
            proposal = await self.store.get_proposal(record.proposal_id)
        await memory.observe(record, proposal)

    def _spawn(self, coro: Awaitable[Any], what: str, *, quiet: bool = False) -> asyncio.Task[Any]:
        """Background work; failures are logged, and shown unless `quiet` (memory only
        helps: the decision it learns from is already in the log)."""

        async def run() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("%s failed", what)
                if not quiet:
                    self.events.problem(f"{what} failed: {exc}")

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def idle(self) -> None:
        """Wait for background recording to finish (tests and benchmarks)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

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
        body = _dump(proposal)
        body["diff"] = unified(proposal.original, proposal.proposed, proposal.path)
        body["decisions"] = [_dump(r) for r in await self.store.decisions_for(proposal_id)]
        body["live"] = proposal_id in self._live
        return body

    async def profile_view(self) -> dict[str, Any]:
        profile = await self.profile_store()
        await profile.refresh()
        view = profile_view(profile.profile, await self.store.pins())
        return {
            "classes": [_dump(c) for c in view.classes],
            "profile": _dump(view.model_copy(update={"classes": []})),
            "adapters": [_dump(a) for a in await self.store.adapters()],
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
        await self._observed(record)
        return record

    async def verify(self) -> VerifyResult:
        return await self.store.verify()

    # ------------------------------------------------------------------ training
    def training_status(self) -> dict[str, Any]:
        if self._c.training is None:
            try:
                return _dump(self.training().status())
            except ImportError:
                return {"state": "unavailable", "message": "training is not installed"}
        return _dump(self._c.training.status())

    def training_running(self) -> bool:
        mine = self._training_task is not None and not self._training_task.done()
        return mine or bool(self._c.training is not None and self._c.training.running)

    def start_training(self, on_progress: Callable[[Any], None] | None = None) -> asyncio.Task[Any]:
        """Start `train_now` in the background; TrainingBusy when a run is already going."""
        if self.training_running():
            raise TrainingBusy("training is already running; cancel it or wait for it to end")
        self.training()  # fail now (ImportError) rather than inside the task
        self._training_task = asyncio.get_running_loop().create_task(self.train_now(on_progress))
        return self._training_task

    async def train_now(self, on_progress: Callable[[Any], None] | None = None) -> Any:
        """Train an adapter now; progress goes to `on_progress` and `training_status`."""
        from tether.training import TrainingBusy as ManagerBusy

        manager = self.training()

        def progress(event: Any) -> None:
            if on_progress is not None:
                on_progress(event)
            self.events.training_status(_dump(manager.status()))

        self.events.training_status(_dump(manager.status()))
        try:
            return await manager.train_now(progress)
        except ManagerBusy as exc:
            raise TrainingBusy(str(exc)) from None
        finally:
            self.events.training_status(_dump(manager.status()))

    def start_scheduler(self) -> None:
        """Train by itself when the profile is mature and enough new labels came in.

        Only long-running front ends (the language server) start it; it holds off while
        the user types, and `training.auto_schedule = false` turns it off.
        """
        if self._scheduler is not None:
            return
        from tether.training import Scheduler

        manager = self.training()

        async def mature() -> bool:
            return (await self.profile_store()).profile.mature()

        def status(*_: Any) -> None:
            self.events.training_status(_dump(manager.status()))

        self._scheduler = Scheduler(
            manager, self.settings, is_mature=mature, on_progress=status, on_result=status
        )
        # kept out of _tasks: it runs until close, and idle() waits for _tasks
        self._scheduler_task = asyncio.get_running_loop().create_task(self._scheduler.run())

    async def cancel_training(self) -> bool:
        if self._c.training is None:
            return False
        return bool(await self._c.training.cancel())
