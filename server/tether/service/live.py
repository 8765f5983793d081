"""The proposals the editor shows now (pending, not yet decided), and those being applied."""

from __future__ import annotations

from tether.core.types import Proposal
from tether.service.context import Context


class LiveProposals:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.shown: dict[str, Proposal] = {}  # pending proposals shown in the editor
        self.busy: set[str] = set()  # proposals with an accept in flight

    def __contains__(self, proposal_id: str) -> bool:
        return proposal_id in self.shown

    def on(self, uri: str | None = None) -> list[Proposal]:
        """Pending proposals shown in the editor (for diagnostics and code actions)."""
        return [p for p in self.shown.values() if uri is None or p.uri == uri]

    def show(self, proposal: Proposal) -> None:
        self.shown[proposal.id] = proposal
        self.ctx.events.proposals_changed(proposal.uri)

    def drop(self, proposal: Proposal) -> None:
        if self.shown.pop(proposal.id, None) is not None:
            self.ctx.events.proposals_changed(proposal.uri)

    def stale(self, uri: str, version: int | None) -> list[Proposal]:
        """Stop showing the proposals a new version of `uri` made stale; returns them."""
        gone = [
            p
            for p in self.shown.values()
            if p.uri == uri and p.version != version and p.id not in self.busy
        ]
        for p in gone:
            self.shown.pop(p.id, None)
        if gone:
            self.ctx.events.proposals_changed(uri)
        return gone
