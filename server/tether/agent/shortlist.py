"""From every candidate to the few a person sees: bounded, verified, combined, ranked.

The spec's `max_lines` boundary comes first (it is a hard rule), then the verifier; each
ruff rule's fix and the model's first verified answer for each spot are combined into one
candidate (verified again, as a whole); duplicates go; the rest are ordered by the active
adapter's implicit reward, or without an adapter by what they fix; the spec's commands,
when allowed, run last and only on the best few, since they are the slowest check.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from tether.agent.assembly import completion_for, heuristic_order
from tether.agent.candidates import Rejected, combine
from tether.agent.classes import changed_lines
from tether.agent.prompting import Message
from tether.agent.spots import RangeText
from tether.agent.verifier import Candidate, Verdict, Verifier

log = logging.getLogger("tether.agent")

Rewards = Callable[[Sequence[Message], Sequence[str]], Awaitable[list[float]]]


class Shortlist:
    """Chooses what a request's proposal offers; `rejected` collects what did not make it."""

    def __init__(
        self,
        rt: RangeText,
        language: str,
        *,
        max_lines: int,
        alternatives: int,
        rewards: Rewards | None,
    ) -> None:
        self.rt = rt
        self.language = language
        self.max_lines = max_lines
        self.alternatives = alternatives
        self.rewards = rewards  # the student's implicit reward (None: rerank is off)
        self.rejected: list[Rejected] = []

    async def select(
        self, candidates: list[Candidate], verifier: Verifier, messages: list[Message]
    ) -> tuple[list[Candidate], dict[int, Verdict]]:
        """Bounded, verified, combined, ranked, deduplicated: what the user may see.

        Refused candidates are added to `rejected` with their reason.
        """
        max_lines = self.max_lines
        bounded: list[Candidate] = []
        for c in candidates:
            n_changed = changed_lines(self.rt.text, c.text)
            if n_changed > max_lines:
                self.rejected.append(
                    Rejected(
                        _label(c),
                        f"the edit changes {n_changed} lines; the spec allows at most "
                        f"{max_lines} (boundaries.max_lines)",
                        c.prompt,
                        c.completion,
                    )
                )
            else:
                bounded.append(c)
        verdicts: dict[int, Verdict] = {}
        survivors = await self._verified(bounded, verifier, verdicts)
        best_per_part = _best_per_part(survivors)
        joint = combine(self.rt, best_per_part, self.language)
        if joint is not None and changed_lines(self.rt.text, joint.text) <= max_lines:
            ok = await self._verified([joint], verifier, verdicts, quiet=True)
            survivors = ok + survivors
        unique: list[Candidate] = []
        seen: set[str] = set()
        for c in survivors:
            if c.text not in seen:
                seen.add(c.text)
                unique.append(c)
        ranked = await self._rank(messages, unique)
        if verifier.commands is not None:
            ranked = await self._run_commands(ranked, verifier, verdicts)
        return ranked[: self.alternatives], verdicts

    async def _verified(
        self,
        cands: list[Candidate],
        verifier: Verifier,
        verdicts: dict[int, Verdict],
        *,
        quiet: bool = False,
    ) -> list[Candidate]:
        out: list[Candidate] = []
        for c, v in zip(cands, await verifier.verify_all(cands), strict=True):
            verdicts[id(c)] = v
            if v.ok:
                out.append(c)
            elif not quiet:
                self.rejected.append(Rejected(_label(c), v.reason, c.prompt, c.completion))
        return out

    async def _run_commands(
        self,
        ranked: list[Candidate],
        verifier: Verifier,
        verdicts: dict[int, Verdict],
    ) -> list[Candidate]:
        """The spec's commands on the best candidates, in order, until enough pass."""
        kept: list[Candidate] = []
        for c in ranked:
            if len(kept) >= self.alternatives:
                break
            v = await verifier.verify(c, run_commands=True)
            verdicts[id(c)] = v
            if v.ok:
                kept.append(c)
            else:
                self.rejected.append(Rejected(_label(c), v.reason, c.prompt, c.completion))
        return kept

    async def _rank(self, messages: list[Message], cands: list[Candidate]) -> list[Candidate]:
        """Best-first by the active adapter's implicit reward; without one, by what they fix.

        The adapter was promoted because this reward ranked the user's held-out choices
        first, so among verified candidates it is the best guess at the one the user takes.
        Every candidate is scored as an answer to the whole-selection prompt, the prompt
        training learns from. A scoring error keeps the heuristic order (reranking helps,
        it must never stop a proposal).
        """
        ordered = heuristic_order(cands)
        if self.rewards is None or len(ordered) < 2:
            return ordered
        try:
            scores = await self.rewards(
                messages, [completion_for(c, self.language) for c in ordered]
            )
        except Exception:
            log.exception("reranking failed; keeping the heuristic order")
            return ordered
        if len(scores) != len(ordered):  # no adapter to ask
            return ordered
        for c, score in zip(ordered, scores, strict=True):
            c.score = score
        return sorted(ordered, key=lambda c: -(c.score or 0.0))  # stable for ties


def _label(c: Candidate) -> str:
    if c.role == "tool":
        return f"{c.source.replace(':', ' ')} fix"
    if c.target:
        return f"{c.role} on {c.target} (answer {c.sample + 1})"
    return f"{c.role} candidate {c.sample + 1}"


def _best_per_part(survivors: list[Candidate]) -> list[Candidate]:
    """For combining: each ruff rule's fix, and the model's first verified answer per spot."""
    best: dict[str, Candidate] = {}
    for c in heuristic_order(survivors):
        if c.role == "tool":
            best.setdefault(c.source, c)
        elif c.target is not None and c.edits:
            best.setdefault(f"spot:{c.edits[0].start}", c)
    return list(best.values())
