"""From verified candidates to the one proposal a person reviews.

The best candidate leads and the others stay as alternatives ("Show alternatives"); a pick
among them is a DPO pair, as before. The rationale says what changed and how it was
checked, in words, so the person reviewing knows what the proposal has already been
through: which checks passed, and which could not run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tether.agent.classes import classify
from tether.agent.kinds import kind_of
from tether.agent.verifier import Candidate, Verdict
from tether.config import ClassSettings
from tether.core.diff import make_hunks
from tether.core.response_format import render_completion
from tether.core.types import Candidate as ProposalCandidate
from tether.core.types import Proposal, Range

_DESCRIBE = {
    "docstring": "Adds documentation to the selected code.",
    "type-hints": "Adds type hints to the selected code.",
    "rewrite": "Rewrites the selected lines.",
    "ask": "Does what you asked for in the selected lines.",
}


def heuristic_order(cands: Sequence[Candidate]) -> list[Candidate]:
    """Without an adapter to ask: more findings fixed first, then ruff's own fixes, then the
    model's answers in its own order (its most likely first)."""
    return sorted(cands, key=lambda c: (-len(c.fixes), c.from_model, c.sample))


def checked_line(verdict: Verdict) -> str:
    """'Checked: parses, keeps names and parameters, adds no ruff finding.' and what did not run."""
    lines = []
    if verdict.passed:
        lines.append("Checked: " + ", ".join(dict.fromkeys(verdict.passed)) + ".")
    if verdict.summary:
        lines.append(f"Tests: {verdict.summary}.")
    for skipped in verdict.skipped:
        check, _, why = skipped.partition(": ")
        lines.append(f"Not checked ({check}): {why}")
    return "\n".join(lines)


def assign_kinds(cands: Sequence[Candidate], original: str, free_form: bool) -> None:
    for c in cands:
        if not c.kind:
            c.kind = kind_of(original, c.text, free_form=free_form)


def completion_for(c: Candidate, language: str) -> str:
    """The answer as the whole-selection prompt would have it (what training learns)."""
    if c.from_model and c.target is None and c.edits and c.edits[0].start == 0:
        return c.completion  # the model answered the whole selection itself
    return render_completion(c.text, language, c.rationale)


def build_proposal(
    *,
    uri: str,
    path: str,
    language: str,
    version: int | None,
    rng: Range,
    task: str,
    original: str,
    ranked: Sequence[Candidate],
    verdicts: dict[int, Verdict],
    prompt: str,
    classes: ClassSettings,
    meta: dict[str, Any],
) -> Proposal:
    chosen = ranked[0]
    class_key, risk = classify(path, task, language, original, chosen.text, classes, chosen.kind)
    verdict = verdicts[id(chosen)]
    rationale = chosen.rationale.strip() or _DESCRIBE.get(chosen.kind, f"A change for {task}.")
    checked = checked_line(verdict)
    meta = {
        **meta,
        "kind": chosen.kind,
        "candidates": [
            {
                "role": c.role,
                "model": c.model,
                "adapter_version": c.adapter_version,
                "rationale": c.rationale,
                "sample": c.sample,
                "score": c.score,
                "source": c.source,
                "kind": c.kind,
                "fixes": list(c.fixes),
                "checks": verdicts[id(c)].passed,
                "skipped": verdicts[id(c)].skipped,
            }
            for c in ranked
        ],
        "checks": verdict.passed,
        "skipped_checks": verdict.skipped,
    }
    if verdict.summary:
        meta["tests"] = verdict.summary
    return Proposal(
        uri=uri,
        path=path,
        language=language,
        version=version,
        range=rng,
        task=task,
        kind=chosen.kind,
        class_key=class_key,
        risk=risk,
        rationale=f"{rationale}\n{checked}" if checked else rationale,
        original=original,
        proposed=chosen.text,
        hunks=make_hunks(original, chosen.text, rng.start),
        candidates=[
            ProposalCandidate(
                text=c.text,
                completion=completion_for(c, language),
                score=c.score,
                source=c.source,
                kind=c.kind,
            )
            for c in ranked
        ],
        chosen_candidate=0,
        prompt=prompt,
        completion=completion_for(chosen, language),
        model=chosen.model or chosen.source,
        role=chosen.role,  # student | teacher | tool (ruff's fix: no model's evidence)
        adapter_version=chosen.adapter_version if chosen.role == "student" else None,
        meta=meta,
    )
