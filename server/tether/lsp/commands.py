"""`workspace/executeCommand` handlers: the contract's commands, one object argument each."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from tether.agent.providers.base import streaming_to
from tether.lsp import flows
from tether.lsp.errors import single_argument
from tether.lsp.names import (
    ACCEPT,
    ASK,
    CANCEL_TRAINING,
    PIN,
    PROPOSE,
    REFINE,
    REGENERATE,
    REJECT,
    SHOW_DIFF,
    TRAIN_NOW,
    VERIFY,
    work_done_token,
)
from tether.lsp.progress import PartialAnswers, WorkDone
from tether.lsp.scope import widen_cursor
from tether.protocol.commands import (
    AcceptArgs,
    AskArgs,
    CancelTrainingResult,
    DecisionResult,
    PinArgs,
    PinResult,
    ProposalArgs,
    ProposeArgs,
    ProposeResult,
    RefineArgs,
    RejectArgs,
    ReplaceResult,
    ShowDiffResult,
    TrainStartedResult,
    VerifyCommandResult,
    WorkspaceArgs,
)
from tether.protocol.methods import REVIEW_PRODUCTION
from tether.service import BadRequest, ProposalNotPending, TrainingBusy, WorkCancelled

if TYPE_CHECKING:
    from tether.lsp.context import Editor, Server

Handler = Callable[..., Awaitable[Any]]
#: Command name -> handler(server, session, *arguments); server.py registers them.
HANDLERS: dict[str, Handler] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register


@command(PROPOSE)
async def propose(server: Server, session: Editor, *arguments: Any) -> dict[str, Any]:
    args = ProposeArgs.model_validate(single_argument(arguments))
    service = await session.service_for(args.uri)
    req = service.request_for(
        args.uri, args.range, args.task, version=args.version, diagnostics=args.diagnostics
    )
    # A bare cursor means the code around it, not "insert the answer here".
    req.range = widen_cursor(
        req.text, req.language, req.range, [d.range for d in req.diagnostics if d.range]
    )
    task = service.spec().task(args.task)
    title = task.title if task else f"Tether: {args.task}"
    outcome = await _run(server, service, req, title)
    session.spawn(flows.present(session, service, outcome), "presenting proposals")
    return _answer(outcome).dump()


@command(ASK)
async def ask(server: Server, session: Editor, *arguments: Any) -> dict[str, Any]:
    """A request in the user's own words, answered through the same verified path."""
    args = AskArgs.model_validate(single_argument(arguments))
    words = args.instruction.strip()
    if not words:
        raise BadRequest("say in a few words what Tether should do with the selection")
    service = await session.service_for(args.uri)
    task = args.task or _ask_task(service)
    req = service.request_for(args.uri, args.range, task, version=args.version)
    req.range = widen_cursor(req.text, req.language, req.range, [])
    req.instruction = words
    outcome = await _run(server, service, req, f"Tether: {_short(words)}", {"instruction": words})
    session.spawn(flows.present(session, service, outcome), "presenting proposals")
    return _answer(outcome).dump()


@command(REGENERATE)
async def regenerate(server: Server, session: Editor, *arguments: Any) -> dict[str, Any]:
    args = ProposalArgs.model_validate(single_argument(arguments))
    return await _replace(server, session, args.proposal_id, "")


@command(REFINE)
async def refine(server: Server, session: Editor, *arguments: Any) -> dict[str, Any]:
    args = RefineArgs.model_validate(single_argument(arguments))
    words = args.instruction.strip()
    if not words:
        raise BadRequest("say in a few words what should change in this proposal")
    return await _replace(server, session, args.proposal_id, words)


async def _replace(server: Server, session: Editor, proposal_id: str, words: str) -> dict[str, Any]:
    """Ask again for a shown proposal's range; the old one is rejected once a new answer
    exists (with the refinement as its reason: the words are training signal). When no
    answer comes back, the old proposal stays as it was."""
    service = await session.service_of_proposal(proposal_id)
    old = await service.pending_proposal(proposal_id)
    req = service.request_for(old.uri, old.range, old.task, version=old.version)
    earlier = str(old.meta.get("instruction", "") or "")
    req.instruction = "\n".join(w for w in (earlier, words) if w)
    how = "refine" if words else "regenerate"
    meta: dict[str, Any] = {"replaces": proposal_id, "via": how}
    if req.instruction:
        meta["instruction"] = req.instruction
    title = f"Tether: {_short(words)}" if words else "Tether: regenerating"
    outcome = await _run(server, service, req, title, meta)
    ids = [p.proposal.id for p in outcome.proposals]
    # decided meanwhile (e.g. in another view): that verdict stands
    with contextlib.suppress(ProposalNotPending):
        await service.reject(proposal_id, words or None, data={"replaced_by": ids, "via": how})
    session.spawn(flows.present(session, service, outcome), "presenting proposals")
    return ReplaceResult(**_answer(outcome).model_dump(), replaced=proposal_id).dump()


async def _run(
    server: Server,
    service: Any,
    req: Any,
    title: str,
    meta: dict[str, Any] | None = None,
) -> Any:
    """Propose with a progress bar (Cancel stops the model); the bar ends with the result.

    While the model writes, its answer so far is the bar's report message.
    """
    bar = await WorkDone.start(
        server,
        title,
        token=work_done_token.get(),
        message=f"asking {service.settings.model}",
        percentage=None,
    )
    partial = PartialAnswers(bar) if bar.token is not None else None
    try:
        with streaming_to(partial):
            outcome = await service.propose(req, cancel=bar.cancel, meta=meta)
    except WorkCancelled as exc:
        _close(partial)
        bar.end(f"cancelled: {exc}")
        raise
    except BaseException:
        _close(partial)
        bar.end("failed")
        raise
    if partial is not None:
        partial.flush()
        partial.close()
    bar.end(f"{len(outcome.proposals)} proposal(s), {len(outcome.shown)} to review")
    return outcome


def _close(partial: PartialAnswers | None) -> None:
    if partial is not None:
        partial.close()


def _answer(outcome: Any) -> ProposeResult:
    return ProposeResult(
        proposal_ids=[p.proposal.id for p in outcome.proposals],
        shown=[p.proposal.id for p in outcome.shown],
        auto_applied=[p.proposal.id for p in outcome.auto],
        suppressed=[p.proposal.id for p in outcome.suppressed],
        failures=outcome.failures,
    )


def _ask_task(service: Any) -> str:
    """The task a free-form request rides on: the first one offered on a selection."""
    tasks = service.tasks()
    chosen = [t for t in tasks if "selection" in t.when] or tasks
    if not chosen:
        raise BadRequest("the agent spec has no tasks; add one to .tether/agent.md")
    return str(chosen[0].name)


def _short(words: str, limit: int = 48) -> str:
    line = " ".join(words.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


@command(ACCEPT)
async def accept(server: Server, session: Editor, *arguments: Any) -> dict[str, Any]:
    args = AcceptArgs.model_validate(single_argument(arguments))
    service = await session.service_of_proposal(args.proposal_id)
    record = await flows.accept(
        session, service, args.proposal_id, args.hunks, args.candidate, reason=args.reason
    )
    return DecisionResult(
        proposal_id=args.proposal_id, outcome=record.outcome.value, seq=record.seq
    ).dump()


@command(REJECT)
async def reject(server: Server, session: Editor, *arguments: Any) -> dict[str, Any]:
    args = RejectArgs.model_validate(single_argument(arguments))
    service = await session.service_of_proposal(args.proposal_id)
    reason = args.reason
    if args.ask_reason and not reason:
        await service.get_proposal(args.proposal_id)  # unknown ids fail before the prompt
        reason = await flows.ask_reason(session)
        if reason is None:
            return DecisionResult(proposal_id=args.proposal_id, outcome=None, cancelled=True).dump()
    record = await service.reject(args.proposal_id, reason)
    return DecisionResult(
        proposal_id=args.proposal_id, outcome=record.outcome.value, seq=record.seq
    ).dump()


@command(SHOW_DIFF)
async def show_diff(server: Server, session: Editor, *arguments: Any) -> dict[str, Any]:
    args = ProposalArgs.model_validate(single_argument(arguments))
    service = await session.service_of_proposal(args.proposal_id)
    view = await service.proposal_view(args.proposal_id)
    session.show(view["diff"] or "(no change)", lsp.MessageType.Info)
    return ShowDiffResult(proposal_id=args.proposal_id, diff=view["diff"]).dump()


@command(PIN)
async def pin(server: Server, session: Editor, *arguments: Any) -> dict[str, Any]:
    args = PinArgs.model_validate(single_argument(arguments))
    service = await session.service_for(None)
    record = await service.pin(args.class_key, args.mode)
    return PinResult(class_key=args.class_key, mode=args.mode, seq=record.seq).dump()


@command(VERIFY)
async def verify(server: Server, session: Editor, *arguments: Any) -> dict[str, Any]:
    args = WorkspaceArgs.model_validate(single_argument(arguments))
    service = await session.service_for(args.uri)
    result = await service.verify()
    if not result.ok:
        session.show(f"Tether: decision log {result.summary()}", lsp.MessageType.Error)
    return VerifyCommandResult(**result.model_dump(), summary=result.summary()).dump()


@command(TRAIN_NOW)
async def train_now(server: Server, session: Editor, *arguments: Any) -> dict[str, Any]:
    args = WorkspaceArgs.model_validate(single_argument(arguments))
    service = await session.service_for(args.uri)
    if service.training_running():
        raise TrainingBusy("training is already running; cancel it or wait for it to end")
    token = work_done_token.get()
    bar: WorkDone | None = None
    pending: list[Any] = []

    def on_progress(event: Any) -> None:
        if bar is None:
            pending.append(event)
            return
        step, total = getattr(event, "step", None), getattr(event, "total", None)
        pct = int(100 * step / total) if step is not None and total else None
        bar.report(_progress_message(event), pct)

    running = service.start_training(on_progress)
    bar = await WorkDone.start(server, "Tether: training", token=token)
    for event in pending:
        on_progress(event)
    session.spawn(_finish_training(session, service, bar, running), "training")
    return TrainStartedResult.model_validate(
        {"started": True, "status": service.training_status()}
    ).dump()


@command(CANCEL_TRAINING)
async def cancel_training(server: Server, session: Editor, *arguments: Any) -> dict[str, Any]:
    args = WorkspaceArgs.model_validate(single_argument(arguments))
    service = await session.service_for(args.uri)
    return CancelTrainingResult(cancelled=await service.cancel_training()).dump()


async def _finish_training(session: Editor, service: Any, bar: WorkDone, running: Any) -> None:
    """End the progress bar with the result; the bar's cancel button cancels the run."""

    async def cancel_on_request() -> None:
        await bar.cancel.wait()
        await service.cancel_training()

    canceller = session.spawn(cancel_on_request(), "cancelling training")
    try:
        result = await running
    except BaseException:
        bar.end("training failed")
        raise
    finally:
        canceller.cancel()
    status = getattr(result, "status", "done")
    reason = getattr(result, "reason", "")
    bar.end(f"{status}: {reason}" if reason else str(status))
    session.show(f"Tether training {status}{': ' + reason if reason else ''}")


def _progress_message(event: Any) -> str:
    message = getattr(event, "message", "") or ""
    phase = getattr(event, "phase", None)
    step, total = getattr(event, "step", None), getattr(event, "total", None)
    parts = [
        p
        for p in (phase, f"step {step}/{total}" if step is not None and total else None, message)
        if p
    ]
    return " · ".join(parts) or "working"


@command(REVIEW_PRODUCTION)
async def review_production(server: Server, session: Editor, *arguments: Any) -> dict[str, Any]:
    """Confirm, overturn or discard a decision made through `tether serve` (living tether)."""
    from tether.protocol.commands import ReviewProductionArgs, ReviewProductionResult
    from tether.publish import production

    args = ReviewProductionArgs.model_validate(single_argument(arguments))
    service = await session.service_for(args.uri)
    try:
        rows = await production.review(
            service.store,
            args.seq,
            args.action,
            reason=args.reason,
            recorder=service.recorder.record,
        )
    except production.ProductionNotFound as exc:
        raise BadRequest(str(exc)) from None
    except production.ProductionError as exc:
        raise ProposalNotPending(str(exc)) from None
    return ReviewProductionResult(
        seq=args.seq,
        action=args.action,
        proposal_id=rows[0].proposal_id or "",
        recorded=[r.seq for r in rows],
        pending=len(await production.pending(service.store)),
    ).dump()
