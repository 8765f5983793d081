"""Conversions between lsprotocol types and the core's pydantic types."""

from __future__ import annotations

from typing import Any

from lsprotocol import types as lsp

from tether.core.types import Position, Proposal, Range
from tether.service import AcceptPlan, TextChange

SOURCE = "tether"


def to_lsp_range(rng: Range) -> lsp.Range:
    return lsp.Range(
        start=lsp.Position(line=rng.start.line, character=rng.start.character),
        end=lsp.Position(line=rng.end.line, character=rng.end.character),
    )


def from_lsp_range(rng: lsp.Range) -> Range:
    return Range(
        start=Position(line=rng.start.line, character=rng.start.character),
        end=Position(line=rng.end.line, character=rng.end.character),
    )


def text_changes(
    changes: list[lsp.TextDocumentContentChangeEvent],
) -> list[TextChange]:
    out: list[TextChange] = []
    for change in changes:
        if isinstance(change, lsp.TextDocumentContentChangePartial):
            out.append(TextChange(range=from_lsp_range(change.range), text=change.text))
        else:
            out.append(TextChange(range=None, text=change.text))
    return out


def diagnostic(proposal: Proposal, risky: bool = False) -> lsp.Diagnostic:
    """A pending proposal as the editor shows it: a hint (information when risky)."""
    return lsp.Diagnostic(
        range=to_lsp_range(proposal.range),
        message=proposal.rationale_headline,
        severity=lsp.DiagnosticSeverity.Information if risky else lsp.DiagnosticSeverity.Hint,
        source=SOURCE,
        code=proposal.task,
        data={"proposalId": proposal.id},
    )


def proposal_id_of(diag: lsp.Diagnostic) -> str | None:
    data: Any = diag.data
    if diag.source == SOURCE and isinstance(data, dict):
        pid = data.get("proposalId")
        return pid if isinstance(pid, str) else None
    return None


def workspace_edit(plan: AcceptPlan, versioned: bool) -> lsp.WorkspaceEdit:
    """The accept's edits, pinned to the proposal's document version when the client can."""
    edits = [lsp.TextEdit(range=to_lsp_range(e.range), new_text=e.new_text) for e in plan.edits]
    if versioned and plan.version is not None:
        return lsp.WorkspaceEdit(
            document_changes=[
                lsp.TextDocumentEdit(
                    text_document=lsp.OptionalVersionedTextDocumentIdentifier(
                        uri=plan.uri, version=plan.version
                    ),
                    edits=edits,  # type: ignore[arg-type]
                )
            ]
        )
    return lsp.WorkspaceEdit(changes={plan.uri: edits})
