"""`workspace/executeCommand` handlers: the contract's commands, one object argument each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pydantic import BaseModel, ConfigDict, Field

from tether.core.types import Range
from tether.lsp import flows
from tether.lsp.errors import single_argument
from tether.lsp.names import (
    ACCEPT,
    CANCEL_TRAINING,
    PIN,
    PROPOSE,
    REJECT,
    SHOW_DIFF,
    TRAIN_NOW,
    VERIFY,
    work_done_token,
)
from tether.lsp.progress import WorkDone
from tether.lsp.scope import widen_cursor
from tether.service import TrainingBusy, WorkCancelled

if TYPE_CHECKING:
    from tether.lsp.server import TetherServer
    from tether.lsp.session import Session

Handler = Callable[..., Awaitable[Any]]
#: Command name -> handler(server, session, *arguments); server.py registers them.
HANDLERS: dict[str, Handler] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProposeArgs(_Args):
    uri: str
    range: Range
    task: str
    version: int | None = None
    diagnostics: list[dict[str, Any]] = Field(default_factory=list)


class AcceptArgs(_Args):
    proposalId: str
    hunks: list[int] | None = None
    candidate: int | None = Field(None, ge=0)


class RejectArgs(_Args):
    proposalId: str
    reason: str | None = None
    askReason: bool = False


class PinArgs(_Args):
    classKey: str
    mode: str | None


class ProposalArgs(_Args):
    proposalId: str


class WorkspaceArgs(_Args):
    uri: str | None = None  # picks the workspace folder in a multi-root window


@command(PROPOSE)
async def propose(server: TetherServer, session: Session, *arguments: Any) -> dict[str, Any]:
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
    bar = await WorkDone.start(
        server, title, token=work_done_token.get(), message=f"asking {service.settings.model}"
    )
    try:
        outcome = await service.propose(req, cancel=bar.cancel)
    except WorkCancelled as exc:
        bar.end(f"cancelled: {exc}")
        raise
    except BaseException:
        bar.end("failed")
        raise
    shown = [p.proposal.id for p in outcome.shown]
    bar.end(f"{len(outcome.proposals)} proposal(s), {len(shown)} to review")
    session.spawn(flows.present(session, service, outcome), "presenting proposals")
    return {
        "proposalIds": [p.proposal.id for p in outcome.proposals],
        "shown": shown,
        "autoApplied": [p.proposal.id for p in outcome.auto],
        "suppressed": [p.proposal.id for p in outcome.suppressed],
        "failures": outcome.failures,
    }


@command(ACCEPT)
async def accept(server: TetherServer, session: Session, *arguments: Any) -> dict[str, Any]:
    args = AcceptArgs.model_validate(single_argument(arguments))
    service = await session.service_of_proposal(args.proposalId)
    record = await flows.accept(session, service, args.proposalId, args.hunks, args.candidate)
    return {"proposalId": args.proposalId, "outcome": record.outcome.value, "seq": record.seq}


@command(REJECT)
async def reject(server: TetherServer, session: Session, *arguments: Any) -> dict[str, Any]:
    args = RejectArgs.model_validate(single_argument(arguments))
    service = await session.service_of_proposal(args.proposalId)
    reason = args.reason
    if args.askReason and not reason:
        await service.get_proposal(args.proposalId)  # unknown ids fail before the prompt
        reason = await flows.ask_reason(session)
        if reason is None:
            return {"proposalId": args.proposalId, "outcome": None, "cancelled": True}
    record = await service.reject(args.proposalId, reason)
    return {"proposalId": args.proposalId, "outcome": record.outcome.value, "seq": record.seq}


@command(SHOW_DIFF)
async def show_diff(server: TetherServer, session: Session, *arguments: Any) -> dict[str, Any]:
    args = ProposalArgs.model_validate(single_argument(arguments))
    service = await session.service_of_proposal(args.proposalId)
    view = await service.proposal_view(args.proposalId)
    session.show(view["diff"] or "(no change)", lsp.MessageType.Info)
    return {"proposalId": args.proposalId, "diff": view["diff"]}


@command(PIN)
async def pin(server: TetherServer, session: Session, *arguments: Any) -> dict[str, Any]:
    args = PinArgs.model_validate(single_argument(arguments))
    service = await session.service_for(None)
    record = await service.pin(args.classKey, args.mode)
    return {"classKey": args.classKey, "mode": args.mode, "seq": record.seq}


@command(VERIFY)
async def verify(server: TetherServer, session: Session, *arguments: Any) -> dict[str, Any]:
    args = WorkspaceArgs.model_validate(single_argument(arguments))
    service = await session.service_for(args.uri)
    result = await service.verify()
    if not result.ok:
        session.show(f"Tether: decision log {result.summary()}", lsp.MessageType.Error)
    return {**result.model_dump(mode="json"), "summary": result.summary()}


@command(TRAIN_NOW)
async def train_now(server: TetherServer, session: Session, *arguments: Any) -> dict[str, Any]:
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
    return {"started": True, "status": service.training_status()}


@command(CANCEL_TRAINING)
async def cancel_training(
    server: TetherServer, session: Session, *arguments: Any
) -> dict[str, Any]:
    args = WorkspaceArgs.model_validate(single_argument(arguments))
    service = await session.service_for(args.uri)
    return {"cancelled": await service.cancel_training()}


async def _finish_training(session: Session, service: Any, bar: WorkDone, running: Any) -> None:
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
