"""Code actions: one per agent task on a range, and Accept / Reject / Show diff per proposal.

Actions are listed cheaply; their command is filled in by `codeAction/resolve` for clients
that resolve commands lazily (Neovim), and inline for the others (VS Code resolves only
`edit`). Every command goes back through `workspace/executeCommand`, so applying an accept
always takes the server's version-pinned `workspace/applyEdit` path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from tether.core.text import RangeError, check_range
from tether.core.types import Proposal
from tether.lsp import names as cmd
from tether.lsp.convert import SOURCE, from_lsp_range, proposal_id_of
from tether.lsp.errors import INVALID_PARAMS
from tether.service import ProposalNotPending, TetherService

if TYPE_CHECKING:
    from tether.lsp.context import Editor, Server

PROPOSE_KIND = lsp.CodeActionKind.RefactorRewrite
FIX_KIND = lsp.CodeActionKind.QuickFix


async def code_action(
    server: Server, session: Editor, params: lsp.CodeActionParams
) -> list[lsp.CodeAction] | None:
    uri = params.text_document.uri
    service = await session.service_for(uri)
    try:
        doc = service.document(uri)
    except Exception:
        return None
    rng = from_lsp_range(params.range)
    try:
        check_range(doc.text, rng)
    except RangeError as exc:
        raise JsonRpcException(
            message=f"the code action range is not in the document: {exc}",
            code=INVALID_PARAMS,
        ) from None
    lazy = _resolves_command(server)
    actions = _proposal_actions(service, params, lazy)
    too_large = service.size_problem(doc)
    if too_large is None:
        actions += _task_actions(service, params, lazy)
    elif _shows_disabled(server):  # say why instead of offering what would fail
        actions += [
            lsp.CodeAction(
                title=a.title, kind=a.kind, disabled=lsp.CodeActionDisabled(reason=too_large)
            )
            for a in _task_actions(service, params, lazy=True)
        ]
    only = params.context.only
    if only:
        actions = [
            a
            for a in actions
            if a.kind and any(a.kind == k or a.kind.startswith(f"{k}.") for k in only)
        ]
    return actions


async def resolve(server: Server, session: Editor, action: lsp.CodeAction) -> lsp.CodeAction:
    data = action.data if isinstance(action.data, dict) else {}
    op = data.get("op")
    if op is None:
        raise JsonRpcException(
            message="this code action carries no Tether data", code=INVALID_PARAMS
        )
    pid = data.get("proposalId")
    if pid is not None:
        service = await session.service_of_proposal(pid)
        proposal = await service.get_proposal(pid)
        if op != "diff" and proposal.state.value != "pending":
            raise ProposalNotPending(
                f"proposal {pid} is already {proposal.state.value}; nothing to do"
            )
    action.command = _command(action.title, data)
    return action


def _shows_disabled(server: Server) -> bool:
    text = server.client_capabilities.text_document
    ca = text.code_action if text else None
    return bool(ca and ca.disabled_support)


def _resolves_command(server: Server) -> bool:
    text = server.client_capabilities.text_document
    ca = text.code_action if text else None
    support = ca.resolve_support if ca else None
    return bool(support and "command" in support.properties)


def _proposal_actions(
    service: TetherService, params: lsp.CodeActionParams, lazy: bool
) -> list[lsp.CodeAction]:
    uri = params.text_document.uri
    live = {p.id: p for p in service.live_proposals(uri)}
    wanted: list[str] = []
    for diag in params.context.diagnostics:
        pid = proposal_id_of(diag)
        if pid in live and pid not in wanted:
            wanted.append(pid)
    requested = from_lsp_range(params.range)
    for p in live.values():
        if p.id not in wanted and _overlaps(p, requested):
            wanted.append(p.id)
    actions: list[lsp.CodeAction] = []
    for pid in wanted:
        actions += _actions_for(live[pid], lazy, params.context.diagnostics)
    return actions


def _actions_for(
    proposal: Proposal, lazy: bool, context: list[lsp.Diagnostic]
) -> list[lsp.CodeAction]:
    diags = [d for d in context if proposal_id_of(d) == proposal.id] or None
    headline = proposal.rationale_headline
    specs: list[tuple[str, dict[str, Any]]] = [(f"Tether: Accept — {headline}", {"op": "accept"})]
    if len(proposal.hunks) > 1:
        for h in proposal.hunks:
            line = h.range.start.line + 1
            specs.append(
                (
                    f"Tether: Accept hunk {h.index + 1} of {len(proposal.hunks)} (line {line})",
                    {"op": "accept", "hunks": [h.index]},
                )
            )
    n = len(proposal.candidates)
    described = proposal.meta.get("candidates") or []
    for i in range(n):
        if i != proposal.chosen_candidate:
            why = described[i].get("rationale", "") if i < len(described) else ""
            title = f"Tether: Accept alternative {i + 1} of {n}"
            if why and why.strip():
                title += f" — {why.strip().splitlines()[0][:80]}"
            specs.append((title, {"op": "accept", "candidate": i}))
    specs += [
        ("Tether: Reject", {"op": "reject"}),
        ("Tether: Reject with reason…", {"op": "reject", "askReason": True}),
        ("Tether: Show diff", {"op": "diff"}),
        ("Tether: Regenerate", {"op": "regenerate"}),
        # the editor asks for the words (Refine needs free text, which LSP cannot prompt for)
        ("Tether: Refine…", {"op": "refine"}),
    ]
    actions = []
    for i, (title, extra) in enumerate(specs):
        data = {"proposalId": proposal.id, "uri": proposal.uri, **extra}
        action = lsp.CodeAction(
            title=title,
            kind=FIX_KIND,
            diagnostics=diags,
            data=data,
            is_preferred=i == 0,
        )
        if not lazy:
            action.command = _command(title, data)
        actions.append(action)
    return actions


def _task_actions(
    service: TetherService, params: lsp.CodeActionParams, lazy: bool
) -> list[lsp.CodeAction]:
    uri = params.text_document.uri
    others = [d for d in params.context.diagnostics if d.source != SOURCE]
    actions = []
    for task in service.tasks():
        offered = "selection" in task.when or ("diagnostic" in task.when and others)
        if not offered:
            continue
        data: dict[str, Any] = {
            "op": "propose",
            "uri": uri,
            "range": _range_json(params.range),
            "task": task.name,
        }
        if "diagnostic" in task.when and others:
            data["diagnostics"] = [_diagnostic_json(d) for d in others]
        kind = FIX_KIND if "diagnostic" in task.when and others else PROPOSE_KIND
        action = lsp.CodeAction(title=task.title, kind=kind, data=data)
        if not lazy:
            action.command = _command(task.title, data)
        actions.append(action)
    return actions


def _command(title: str, data: dict[str, Any]) -> lsp.Command:
    op = data.get("op")
    if op == "propose":
        arg = {k: data[k] for k in ("uri", "range", "task", "diagnostics") if k in data}
        return lsp.Command(title=title, command=cmd.PROPOSE, arguments=[arg])
    pid = data.get("proposalId")
    if op == "accept":
        arg = {"proposalId": pid, **({"hunks": data["hunks"]} if data.get("hunks") else {})}
        if data.get("candidate") is not None:
            arg["candidate"] = data["candidate"]
        return lsp.Command(title=title, command=cmd.ACCEPT, arguments=[arg])
    if op == "reject":
        arg = {"proposalId": pid, **({"askReason": True} if data.get("askReason") else {})}
        return lsp.Command(title=title, command=cmd.REJECT, arguments=[arg])
    if op == "diff":
        return lsp.Command(title=title, command=cmd.SHOW_DIFF, arguments=[{"proposalId": pid}])
    if op == "regenerate":
        return lsp.Command(title=title, command=cmd.REGENERATE, arguments=[{"proposalId": pid}])
    if op == "refine":
        return lsp.Command(title=title, command=cmd.REFINE, arguments=[{"proposalId": pid}])
    raise JsonRpcException(message=f"unknown code action {op!r}", code=INVALID_PARAMS)


def _overlaps(proposal: Proposal, rng: Any) -> bool:
    a, b = proposal.range, rng
    start_a, end_a = (a.start.line, a.start.character), (a.end.line, a.end.character)
    start_b, end_b = (b.start.line, b.start.character), (b.end.line, b.end.character)
    return start_a <= end_b and start_b <= end_a


def _range_json(rng: lsp.Range) -> dict[str, Any]:
    return {
        "start": {"line": rng.start.line, "character": rng.start.character},
        "end": {"line": rng.end.line, "character": rng.end.character},
    }


def _diagnostic_json(diag: lsp.Diagnostic) -> dict[str, Any]:
    return {
        "range": _range_json(diag.range),
        "message": diag.message,
        "severity": int(diag.severity) if diag.severity is not None else None,
        "source": diag.source,
        "code": diag.code,
    }
