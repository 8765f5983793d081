"""Editor round trips around a decision: applying an accept, and presenting new proposals.

The service decides what an accept changes and records the verdict; this module only
carries it to the editor (`workspace/applyEdit`, `window/showMessageRequest`) and brings
the editor's answer back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from tether.core.diff import unified
from tether.decisions import DecisionRecord
from tether.lsp.convert import workspace_edit
from tether.profile.models import PolicyDecision
from tether.service import (
    AcceptPlan,
    PlannedProposal,
    ProposeOutcome,
    ServiceError,
    StaleDocument,
    TetherService,
)

if TYPE_CHECKING:
    from tether.lsp.context import Editor

log = logging.getLogger(__name__)

APPROVE = "Approve"
REJECT = "Reject"
ALWAYS_ASK = "Always ask for this kind"
EXPLAIN = "Explain"
#: How many times "Explain" may re-open the same prompt.
MAX_EXPLAINS = 3
#: A message is not a diff viewer: long diffs are cut.
MAX_DIFF_CHARS = 4000

#: Reasons offered by "Reject with reason…" (editors with their own UI send free text).
REJECT_REASONS = (
    "Wrong: it changes behaviour",
    "Not needed here",
    "Not my style",
    "Too big a change",
)


async def accept(
    session: Editor,
    service: TetherService,
    proposal_id: str,
    hunks: Sequence[int] | None = None,
    candidate: int | None = None,
    *,
    decision: PolicyDecision | None = None,
    reason: str | None = None,
) -> DecisionRecord:
    """Apply an accept through the editor, then record it; expire it when the editor refuses.

    Shielded from cancellation once the edit is sent: the editor may have applied it, and
    the verdict must be recorded either way.
    """
    plan = await service.plan_accept(proposal_id, hunks, candidate)
    work = asyncio.ensure_future(_apply_and_record(session, service, plan, decision, reason))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:  # the request was cancelled; the work goes on
        work.add_done_callback(_log_failure)
        raise


def _log_failure(work: asyncio.Future[DecisionRecord]) -> None:
    if not work.cancelled() and work.exception() is not None:
        log.warning("accept finished after its request was cancelled: %s", work.exception())


async def _apply_and_record(
    session: Editor,
    service: TetherService,
    plan: AcceptPlan,
    decision: PolicyDecision | None,
    reason: str | None = None,
) -> DecisionRecord:
    if not plan.edits:
        return await service.accept(plan, decision=decision, reason=reason)
    caps = session.server.client_capabilities.workspace
    versioned = bool(caps and caps.workspace_edit and caps.workspace_edit.document_changes)
    label = f"Tether: {plan.proposal.rationale_headline}"
    try:
        result = await session.server.workspace_apply_edit_async(
            lsp.ApplyWorkspaceEditParams(edit=workspace_edit(plan, versioned), label=label)
        )
    except Exception as exc:
        await service.expire(plan.proposal.id, f"the editor could not apply the edit: {exc}")
        raise StaleDocument(
            f"the editor could not apply the edit ({exc}); the proposal has expired"
        ) from None
    if result is not None and result.applied:
        return await service.accept(plan, decision=decision, reason=reason)
    why = (result.failure_reason if result is not None else None) or "no reason given"
    await service.expire(plan.proposal.id, f"the editor did not apply the edit: {why}")
    raise StaleDocument(f"the editor did not apply the edit ({why}); the proposal has expired")


async def present(session: Editor, service: TetherService, outcome: ProposeOutcome) -> None:
    """Act on the policy: apply `auto` proposals, prompt for risky `ask` ones.

    Plain `ask` proposals are already diagnostics; `quiet` ones were recorded as suppressed.
    """
    for planned in outcome.auto:
        session.spawn(auto_apply(session, service, planned), "auto-apply")
    for planned in outcome.shown:
        if planned.decision.risky:
            session.spawn(prompt(session, service, planned), "approval prompt")


async def auto_apply(session: Editor, service: TetherService, planned: PlannedProposal) -> None:
    proposal = planned.proposal
    try:
        await accept(session, service, proposal.id, decision=planned.decision)
    except ServiceError as exc:
        session.show(
            f"Tether could not auto-apply {proposal.rationale_headline!r}: {exc}",
            lsp.MessageType.Warning,
        )
        return
    session.show(
        f"Tether applied: {proposal.rationale_headline} ({_short(planned.decision.reason)})",
        lsp.MessageType.Info,
    )


async def prompt(session: Editor, service: TetherService, planned: PlannedProposal) -> None:
    """Ask about a risky proposal in a modal prompt; it stays a diagnostic if dismissed."""
    proposal = planned.proposal
    flags = ", ".join(planned.decision.risky_flags)
    message = (
        f"Tether wants to apply {proposal.rationale_headline!r} in {proposal.path} "
        f"(risky: {flags}). Apply it?"
    )
    # the safe choice first: editors make the first action the default (Enter)
    actions = [lsp.MessageActionItem(title=t) for t in (EXPLAIN, REJECT, ALWAYS_ASK, APPROVE)]
    for _ in range(MAX_EXPLAINS + 1):
        choice = await session.server.window_show_message_request_async(
            lsp.ShowMessageRequestParams(
                type=lsp.MessageType.Warning, message=message, actions=actions
            )
        )
        title = choice.title if choice is not None else None
        if title == APPROVE:
            await accept(session, service, proposal.id)
            return
        if title == REJECT:
            await service.reject(proposal.id)
            return
        if title == ALWAYS_ASK:
            await service.pin(proposal.class_key, "always_ask")
            session.show(
                f"Tether will always ask before changes of kind {proposal.class_key}.",
                lsp.MessageType.Info,
            )
            return
        if title != EXPLAIN:
            return  # dismissed: the proposal stays pending as a diagnostic
        session.show(
            explanation(
                proposal.rationale,
                planned.decision,
                proposal.original,
                proposal.proposed,
                proposal.path,
            ),
            lsp.MessageType.Info,
        )


def explanation(
    rationale: str, decision: PolicyDecision, original: str, proposed: str, path: str
) -> str:
    diff = unified(original, proposed, path)
    if len(diff) > MAX_DIFF_CHARS:
        diff = diff[:MAX_DIFF_CHARS] + "\n… (Show diff has the whole change)"
    return (
        f"Why: {rationale.strip() or '(no rationale given)'}\n"
        f"Why Tether asks: {decision.reason}\n"
        f"Risk: {', '.join(decision.risky_flags) or 'none'}\n\n{diff}"
    )


async def ask_reason(session: Editor) -> str | None:
    """A reason picked from a short list (LSP has no free-text input)."""
    choice = await session.server.window_show_message_request_async(
        lsp.ShowMessageRequestParams(
            type=lsp.MessageType.Info,
            message="Why reject this proposal? (The reason teaches Tether.)",
            actions=[lsp.MessageActionItem(title=r) for r in REJECT_REASONS],
        )
    )
    return choice.title if choice is not None else None


def _short(reason: str, limit: int = 120) -> str:
    return reason if len(reason) <= limit else reason[: limit - 1] + "…"
