"""The held-out split: which proposals an adapter is judged on and never trained on.

Two rules, both about keeping the gate honest across runs:

1. A proposal is held out when a hash of its id falls under the held-out fraction. The
   hash depends on nothing but the id, so a proposal's side never changes from one run
   to the next: no adapter, active or candidate, has ever trained on a proposal that is
   held out now, and the two are compared on data neither saw. All examples of one
   proposal (several pairs from several candidates) stay on the same side, so a sibling
   pair cannot leak the answer.
2. When the hash leaves too little to judge with (small data), the newest proposals, by
   the seq of their decision, are added until the held-out set can be scored. Taking the
   newest is the time-ordered part: an adapter is judged on the user's latest decisions,
   the ones it must generalise to, and because newer data keeps arriving at the end of
   the log, a proposal that trained an earlier adapter is never pulled back to this side
   (the newest-k suffix only moves forward as the log grows).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

_SALT = b"tether-heldout-v1:"
_SCALE = float(1 << 64)


class _Example(Protocol):
    proposal_id: str
    seq: int


E = TypeVar("E", bound=_Example)


def hash_unit(proposal_id: str) -> float:
    """A number in [0, 1) fixed by the proposal id alone."""
    digest = hashlib.sha256(_SALT + proposal_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def held_out_ids(
    examples: Sequence[E],
    fraction: float,
    judgeable: Callable[[list[E]], bool],
) -> set[str]:
    """Proposal ids on the held-out side (see the module docstring for the rules).

    Never holds out every proposal: training needs at least one.
    """
    by_proposal: dict[str, list[E]] = {}
    newest: dict[str, int] = {}
    for ex in examples:
        by_proposal.setdefault(ex.proposal_id, []).append(ex)
        newest[ex.proposal_id] = max(newest.get(ex.proposal_id, -1), ex.seq)
    chosen = {pid for pid in by_proposal if hash_unit(pid) < fraction}
    if len(chosen) >= len(by_proposal):  # keep something to train on
        chosen = set(sorted(chosen, key=lambda p: newest[p])[1:])

    def held(ids: set[str]) -> list[E]:
        return [ex for pid in ids for ex in by_proposal[pid]]

    remaining = sorted((p for p in by_proposal if p not in chosen), key=lambda p: -newest[p])
    while not judgeable(held(chosen)) and len(remaining) > 1:
        chosen.add(remaining.pop(0))
    return chosen
