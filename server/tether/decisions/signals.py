"""Training signals from the decision log, following the design's rules.

- accepted (all hunks) → KTO desirable; rejected → KTO undesirable.
- corrected → DPO pair (chosen = the user's final text, rejected = the proposal); the
  correction supersedes the accept's KTO label (the user did not take it as it was).
- accepted with a subset of hunks → DPO pair (chosen = the partially applied text).
- candidate k picked among several → DPO pairs k against each of the others.
- rejected, then rewritten by hand (`rewritten`) → DPO pair (chosen = the user's text).
- a model answer the verifier passed and one it refused, for the same prompt → a verifier
  pair (source "verifier"), read from the proposal's `proposed` row: labelled by tools, not
  by the user, so it trains validity with its own weight and is never profile evidence.
Decisions taken by the policy are never evidence. The prompt is always the exact one the
proposal was made with, and the user's own text is rendered in the model's answer format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from tether.core.diff import apply_hunks
from tether.core.response_format import render_completion
from tether.core.types import ACCEPTS, Actor, Outcome, Proposal
from tether.decisions.models import DecisionRecord

if TYPE_CHECKING:
    from tether.decisions.store import DecisionStore

Source = Literal["accept", "reject", "correction", "partial", "pick", "rewrite", "verifier"]
#: Signals a person gave; the rest (verifier pairs) were labelled by tools.
USER_SOURCES = frozenset({"accept", "reject", "correction", "partial", "pick", "rewrite"})


class _Example(BaseModel):
    prompt: str
    proposal_id: str
    seq: int
    ts: str
    class_key: str
    source: Source


class KTOExample(_Example):
    completion: str
    label: bool


class DPOPair(_Example):
    chosen: str
    rejected: str


class Signals(BaseModel):
    kto: list[KTOExample] = []
    dpo: list[DPOPair] = []

    @property
    def labels(self) -> int:
        """Signals a person gave (verifier pairs are not: they never trigger training)."""
        return len(self.kto) + sum(p.source in USER_SOURCES for p in self.dpo)


def _user_text(proposal: Proposal, text: str) -> str:
    return render_completion(text, proposal.language)


def _completion(proposal: Proposal, index: int | None = None) -> str:
    if index is not None and 0 <= index < len(proposal.candidates):
        return proposal.candidates[index].completion
    return proposal.completion or render_completion(proposal.proposed, proposal.language)


def _verifier_pairs(rec: DecisionRecord, proposal: Proposal | None) -> list[DPOPair]:
    if proposal is None:
        return []
    out: list[DPOPair] = []
    for pair in proposal.meta.get("verifier_pairs") or []:
        try:
            out.append(
                DPOPair(
                    prompt=pair["prompt"],
                    chosen=pair["chosen"],
                    rejected=pair["rejected"],
                    proposal_id=proposal.id,
                    seq=rec.seq,
                    ts=rec.ts,
                    class_key=proposal.class_key,
                    source="verifier",
                )
            )
        except (KeyError, TypeError, ValueError):
            continue  # a malformed entry teaches nothing; the rest still count
    return out


def extract_signals(
    records: Iterable[DecisionRecord], proposals: Mapping[str, Proposal]
) -> Signals:
    """Apply the rules to decision rows in chain order; unknown proposals are skipped."""
    kto: dict[str, KTOExample] = {}
    dpo: list[DPOPair] = []
    for rec in records:
        if rec.outcome == Outcome.PROPOSED and rec.proposal_id is not None:
            dpo += _verifier_pairs(rec, proposals.get(rec.proposal_id))
            continue
        if rec.actor != Actor.USER or rec.proposal_id is None:
            continue
        proposal = proposals.get(rec.proposal_id)
        if proposal is None or not proposal.prompt:
            continue
        base = {
            "prompt": proposal.prompt,
            "proposal_id": proposal.id,
            "seq": rec.seq,
            "ts": rec.ts,
            "class_key": proposal.class_key,
        }
        chosen_index = rec.candidate if rec.candidate is not None else proposal.chosen_candidate
        completion = _completion(proposal, chosen_index)
        if rec.outcome in ACCEPTS:
            partial = rec.hunks is not None and len(rec.hunks) < len(proposal.hunks)
            if partial:
                wanted = [h for h in proposal.hunks if h.index in set(rec.hunks or [])]
                text = apply_hunks(proposal.original, wanted)
                dpo.append(
                    DPOPair(
                        **base,
                        source="partial",
                        chosen=_user_text(proposal, text),
                        rejected=completion,
                    )
                )
            else:
                kto[proposal.id] = KTOExample(
                    **base, source="accept", completion=completion, label=True
                )
            if len(proposal.candidates) > 1:
                for i, _ in enumerate(proposal.candidates):
                    if i != chosen_index:
                        dpo.append(
                            DPOPair(
                                **base,
                                source="pick",
                                chosen=completion,
                                rejected=_completion(proposal, i),
                            )
                        )
        elif rec.outcome == Outcome.REJECTED:
            kto[proposal.id] = KTOExample(
                **base, source="reject", completion=completion, label=False
            )
        elif rec.outcome in (Outcome.CORRECTED, Outcome.REWRITTEN) and rec.after is not None:
            if rec.outcome == Outcome.CORRECTED:
                kto.pop(proposal.id, None)
            dpo.append(
                DPOPair(
                    **base,
                    source="correction" if rec.outcome == Outcome.CORRECTED else "rewrite",
                    chosen=_user_text(proposal, rec.after),
                    rejected=_completion(proposal),
                )
            )
    return Signals(kto=sorted(kto.values(), key=lambda e: e.seq), dpo=dpo)


async def load_signals(
    store: DecisionStore, after_seq: int = 0, until_seq: int | None = None
) -> Signals:
    """Signals from the rows in (after_seq, until_seq] of a DecisionStore."""
    records = await store.decisions(after_seq=after_seq, until_seq=until_seq)
    ids = {r.proposal_id for r in records if r.proposal_id}
    proposals: dict[str, Proposal] = {}
    for pid in ids:
        proposals[pid] = await store.get_proposal(pid)
    return extract_signals(records, proposals)
