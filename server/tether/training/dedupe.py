"""Exact and near-duplicate removal for training and export data.

Repeated decisions on the same text (the same fix proposed in every file, a proposal
re-made after a reload) would otherwise be counted many times and dominate a small
dataset, and a copy that lands on the held-out side would make the eval look better than
it is. Two examples are duplicates when *every* text field matches after whitespace
normalisation (exact), or are near-duplicates by rapidfuzz's normalised Indel ratio: the
prompts (long, with file context that drifts between two proposals of the same fix) at
the configured threshold, the answers at a stricter one (`ANSWER_THRESHOLD`), because in
short code one changed token is a different answer (`a | b` is not `a ^ b`). Comparing
field by field matters: two pairs with the same long prompt but different rejected texts
are different evidence, though their concatenations look alike.

The newest example wins (highest seq), so when a user changed their mind about the same
completion, the latest verdict is the one kept.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from rapidfuzz import fuzz, process

_WS = re.compile(r"\s+")
#: Answers closer than this are near-duplicates (about one character in a hundred).
ANSWER_THRESHOLD = 0.99


class _HasSeq(Protocol):
    seq: int


T = TypeVar("T", bound=_HasSeq)


@dataclass
class DedupeStats:
    kept: int = 0
    exact: int = 0
    near: int = 0


def normalise(text: str) -> str:
    return _WS.sub(" ", text).strip()


def exact_key(fields: Sequence[str]) -> str:
    joined = "\x1f".join(normalise(f) for f in fields)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def dedupe(
    items: Sequence[T],
    fields: Callable[[T], tuple[str, ...]],
    *,
    threshold: float = 0.95,
) -> tuple[list[T], DedupeStats]:
    """Remove exact and near duplicates; returns the survivors in seq order and counts.

    `fields` gives the prompt first, then the answers. The last answer is searched first
    (short and discriminating) and the other fields are checked only for its matches, so
    the cost stays near-linear in practice.
    """
    stats = DedupeStats()
    seen: set[str] = set()
    kept: list[T] = []
    kept_fields: list[tuple[str, ...]] = []
    kept_keys: list[str] = []  # normalised last field of each kept item
    cutoffs = (threshold * 100.0, max(threshold, ANSWER_THRESHOLD) * 100.0)
    for item in sorted(items, key=lambda x: x.seq, reverse=True):
        values = tuple(normalise(v) for v in fields(item))
        key = exact_key(values)
        if key in seen:
            stats.exact += 1
            continue
        if threshold < 1.0 and kept_keys and _near(values, kept_fields, kept_keys, cutoffs):
            stats.near += 1
            continue
        seen.add(key)
        kept.append(item)
        kept_fields.append(values)
        kept_keys.append(values[-1])
    kept.sort(key=lambda x: x.seq)
    stats.kept = len(kept)
    return kept, stats


def _near(
    values: tuple[str, ...],
    kept_fields: list[tuple[str, ...]],
    kept_keys: list[str],
    cutoffs: tuple[float, float],
) -> bool:
    prompt_cutoff, answer_cutoff = cutoffs
    matches = process.extract(
        values[-1], kept_keys, scorer=fuzz.ratio, score_cutoff=answer_cutoff, limit=None
    )
    for _choice, _score, index in matches:
        other = kept_fields[index]
        if fuzz.ratio(values[0], other[0], score_cutoff=prompt_cutoff) < prompt_cutoff:
            continue
        if all(
            fuzz.ratio(a, b, score_cutoff=answer_cutoff) >= answer_cutoff
            for a, b in zip(values[1:-1], other[1:-1], strict=True)
        ):
            return True
    return False
