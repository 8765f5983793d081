"""Candidates from every source: ruff's fixes, the model on a spot, the model on the range.

Each candidate is the full replacement of the requested range plus the edits it is made
of, so candidates from different sources combine (`combine`) and the user sees one
proposal whose hunks are the separate fixes. Model answers that cannot be used become
`Rejected` entries: the failure message a person reads, and, with the prompt and the raw
answer, one side of a verifier pair.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from tether.agent.docstrings import (
    body_indent,
    foreign_names,
    known_names,
    sentence,
    with_docstring,
)
from tether.agent.parsing import ParseFailure, parse_completion
from tether.agent.prompting import EXAMPLE_RATIONALES
from tether.agent.providers import Generation
from tether.agent.spots import Edit, RangeText, Spot, apply_edits, disjoint
from tether.agent.tools.ruff import Finding
from tether.agent.verifier import Candidate
from tether.core.response_format import render_completion


@dataclass
class Rejected:
    """A model answer the checks refused: why, and what it answered (for verifier pairs)."""

    label: str  # "student candidate 2", "student on E711 at line 4"
    reason: str
    prompt: str = ""
    completion: str = ""

    @property
    def failure(self) -> str:
        return f"{self.label}: {self.reason}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def tool_candidates(rt: RangeText, findings: Sequence[Finding], language: str) -> list[Candidate]:
    """One candidate per rule ruff can fix inside the range, plus all of them together."""
    edits: dict[str, list[Edit]] = defaultdict(list)
    notes: dict[str, str] = {}
    for f in findings:
        if not f.fixable or not rt.inside(f):
            continue
        fix = rt.fix_edits(f)
        if not fix:
            continue
        edits[f.rule].extend(fix)
        notes.setdefault(f.rule, (f.fix.message if f.fix and f.fix.message else f.message))
    out: list[Candidate] = []
    for rule, rule_edits in edits.items():
        kept = tuple(disjoint(rule_edits))
        text = apply_edits(rt.text, kept)
        if text == rt.text:
            continue
        rationale = f"{rule}: {notes[rule]} (ruff's fix)"
        out.append(
            Candidate(
                text=text,
                completion=render_completion(text, language, rationale),
                rationale=rationale,
                source=f"ruff:{rule}",
                kind=rule,
                fixes=(rule,) * len(kept),
                edits=kept,
            )
        )
    return out


def _at_spot(
    rt: RangeText,
    spot: Spot,
    gen: Generation,
    role: str,
    i: int,
    edit: Edit,
    rationale: str,
    kind: str,
) -> Candidate:
    """The range with answer `i` for one spot in place."""
    return Candidate(
        text=apply_edits(rt.text, [edit]),
        completion=gen.completions[i],
        rationale=rationale,
        source=role,
        kind=kind,
        prompt=gen.prompt,
        target=spot.rule,
        fixes=(spot.rule,),
        role=role,
        model=gen.model,
        adapter_version=gen.adapter_version,
        sample=i,
        edits=(edit,),
    )


def docstring_candidates(
    rt: RangeText, spot: Spot, gen: Generation, role: str
) -> tuple[list[Candidate], list[Rejected]]:
    """Sentences the model wrote for a missing docstring, built into docstrings."""
    header = rt.text[spot.start : spot.end].rstrip("\n")
    end = spot.start + len(header)
    indent = body_indent(rt, spot)
    known = known_names(rt.document)
    good: list[Candidate] = []
    bad: list[Rejected] = []
    where = f"{role} on {spot.rule} at line {spot.first + 1}"
    for i, completion in enumerate(gen.completions):
        label = f"{where} (answer {i + 1})" if len(gen.completions) > 1 else where
        if _cut_off_sentence(completion, gen, i):
            reason = "truncated output: the docstring sentence was cut off"
            bad.append(Rejected(label, reason, gen.prompt, completion))
            continue
        text = sentence(completion)
        if text is None:
            reason = "no code block: the model gave no usable sentence for the docstring"
            bad.append(Rejected(label, reason, gen.prompt, completion))
            continue
        foreign = foreign_names(text, known)
        if foreign:
            names = ", ".join(f"`{name}`" for name in foreign)
            reason = f"not about this code: the docstring names {names}, which the file lacks"
            bad.append(Rejected(label, reason, gen.prompt, completion))
            continue
        edit = Edit(spot.start, end, with_docstring(header, text, indent))
        good.append(_at_spot(rt, spot, gen, role, i, edit, f"Document it: {text}", "docstring"))
    return good, bad


def spot_candidates(
    rt: RangeText,
    spot: Spot,
    gen: Generation,
    role: str,
    language: str,
    keeps_code: bool,
    context: tuple[str, str],
) -> tuple[list[Candidate], list[Rejected]]:
    """The model's answers for one spot, parsed into range candidates (or refusals)."""
    original = rt.text[spot.start : spot.end].rstrip("\n")
    end = spot.start + len(original)
    good: list[Candidate] = []
    bad: list[Rejected] = []
    where = f"{role} on {spot.rule} at line {spot.first + 1}"
    for i, completion in enumerate(gen.completions):
        label = f"{where} (answer {i + 1})" if len(gen.completions) > 1 else where
        parsed = parse_completion(
            completion,
            original,
            language=language,
            before=context[0],
            after=context[1],
            document=rt.document,
            doc_start=rt.start + spot.start,
            doc_end=rt.start + end,
            keeps_code=keeps_code or spot.kind == "docstring",
        )
        if isinstance(parsed, ParseFailure):
            bad.append(Rejected(label, _length_note(parsed.reason, gen, i), gen.prompt, completion))
            continue
        edit = Edit(spot.start, end, parsed.text)
        rationale = parsed.rationale or f"Fix {spot.rule}: {spot.finding.message}"
        good.append(_at_spot(rt, spot, gen, role, i, edit, rationale, spot.kind))
    return good, bad


def range_candidates(
    rt: RangeText,
    gen: Generation,
    role: str,
    language: str,
    keeps_code: bool,
    context: tuple[str, str],
) -> tuple[list[Candidate], list[Rejected]]:
    """The model's answers for the whole range (no finding located a smaller spot)."""
    good: list[Candidate] = []
    bad: list[Rejected] = []
    for i, completion in enumerate(gen.completions):
        label = f"{role} candidate {i + 1}" if len(gen.completions) > 1 else role
        parsed = parse_completion(
            completion,
            rt.text,
            language=language,
            before=context[0],
            after=context[1],
            document=rt.document,
            doc_start=rt.start,
            doc_end=rt.end,
            keeps_code=keeps_code,
        )
        if isinstance(parsed, ParseFailure):
            bad.append(Rejected(label, _length_note(parsed.reason, gen, i), gen.prompt, completion))
            continue
        good.append(
            Candidate(
                text=parsed.text,
                completion=completion,
                # a sentence copied from the prompt's worked example says nothing about this edit
                rationale="" if parsed.rationale in EXAMPLE_RATIONALES else parsed.rationale,
                source=role,
                # the provider's own label when it has one, else read off the change
                # (`kinds.kind_of`)
                kind=gen.kinds[i] if i < len(gen.kinds) else "",
                prompt=gen.prompt,
                role=role,
                model=gen.model,
                adapter_version=gen.adapter_version,
                sample=i,
                edits=(Edit(0, len(rt.text), parsed.text),),
            )
        )
    return good, bad


def _cut_off_sentence(completion: str, gen: Generation, i: int) -> bool:
    """The model ran out of tokens inside its first line: the sentence ends mid-way (the
    demo once showed "...and add the follow")."""
    if not _hit_length(gen, i):
        return False
    text = completion.strip()
    return "\n" not in text and not text.rstrip("\"'`").endswith((".", "!", "?"))


def _hit_length(gen: Generation, i: int) -> bool:
    """The model stopped answer `i` at its token budget rather than on its own."""
    return gen.finish_reasons[i : i + 1] == ["length"]


def _length_note(reason: str, gen: Generation, i: int) -> str:
    if _hit_length(gen, i) and "truncated" not in reason:
        return reason + " (the model hit max_new_tokens)"
    return reason


def combine(rt: RangeText, parts: Sequence[Candidate], language: str) -> Candidate | None:
    """All parts' edits in one candidate (overlaps skipped), when that is more than one part."""
    if len(parts) < 2:
        return None
    edits = disjoint(e for c in parts for e in c.edits)
    kept = [c for c in parts if all(e in edits for e in c.edits)]
    if len(kept) < 2:
        return None
    text = apply_edits(rt.text, edits)
    rules = sorted({r for c in kept for r in c.fixes})
    rationale = "; ".join(c.rationale for c in kept)
    model_parts = [c for c in kept if c.from_model]
    head = model_parts[0] if model_parts else None
    return (
        Candidate(
            text=text,
            completion=render_completion(text, language, rationale),
            rationale=rationale,
            source="+".join(sorted({c.source for c in kept})),
            kind=kept[0].kind if len({c.kind for c in kept}) == 1 else "lint",
            fixes=tuple(r for c in kept for r in c.fixes),
            role=head.role if head else "tool",
            model=head.model if head else "",
            adapter_version=head.adapter_version if head else None,
            edits=tuple(edits),
        )
        if rules
        else None
    )


def verifier_pairs(
    passed: Sequence[Candidate], failed: Sequence[Rejected], limit: int = 2
) -> list[dict[str, str]]:
    """Verified vs refused model answers to the same prompt: what the verifier teaches."""
    by_prompt: dict[str, tuple[list[str], list[Rejected]]] = defaultdict(lambda: ([], []))
    for c in passed:
        if c.from_model and c.prompt:
            by_prompt[c.prompt][0].append(c.completion)
    for r in failed:
        if r.prompt and r.completion.strip():
            by_prompt[r.prompt][1].append(r)
    pairs: list[dict[str, str]] = []
    for prompt, (good, bad) in by_prompt.items():
        for chosen, rejected in list(zip(good * len(bad), bad, strict=False))[:limit]:
            pairs.append(
                {
                    "prompt": prompt,
                    "chosen": chosen,
                    "rejected": rejected.completion,
                    "reason": rejected.reason,
                }
            )
    return pairs


def tried(n_tool: int, n_model: int, n_spots: int) -> str:
    """What the agent tried, in words: '2 ruff fixes and 8 model answers on 2 spots'."""
    parts = []
    if n_tool:
        parts.append(_plural(n_tool, "ruff fix").replace("fixs", "fixes"))
    if n_model:
        where = f" on {_plural(n_spots, 'spot')}" if n_spots else ""
        parts.append(_plural(n_model, "model answer") + where)
    return " and ".join(parts) or "nothing"
