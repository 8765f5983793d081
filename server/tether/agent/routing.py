"""Teacher–student routing: who answers a request of a given decision class.

The student (local model, trained on the user's own decisions) answers a class once its
proposals there are accepted often enough; until then the teacher does, when one is
configured and the file may be sent. Acceptance is read from the decision log itself, so
routing follows exactly what the user decided and needs no state of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from tether.agent.classes import route_key
from tether.config import ClassSettings
from tether.core.types import Actor, Outcome

if TYPE_CHECKING:
    from tether.decisions import DecisionStore

Role = Literal["student", "teacher"]

#: Verdicts needed before a measured acceptance is trusted over the teacher.
MIN_STUDENT_SAMPLES = 5


class Acceptance(BaseModel):
    accepted: int = 0
    decided: int = 0

    @property
    def rate(self) -> float | None:
        return self.accepted / self.decided if self.decided else None


class Route(BaseModel):
    role: Role  # who answers first (candidate 0)
    shadow: bool = False  # the other model answers too; the user's pick is a DPO pair
    reason: str


def choose_route(
    *,
    has_teacher: bool,
    may_send: bool,
    acceptance: Acceptance | None,
    threshold: float,
    shadow: bool = False,
    min_samples: int = MIN_STUDENT_SAMPLES,
) -> Route:
    if not has_teacher:
        return Route(role="student", reason="no teacher configured")
    if not may_send:
        return Route(role="student", reason="this path is never sent to a teacher")
    both = shadow
    acc = acceptance or Acceptance()
    rate = acc.rate
    if rate is not None and acc.decided >= min_samples and rate >= threshold:
        return Route(
            role="student",
            shadow=both,
            reason=f"student acceptance {rate:.2f} >= {threshold:.2f} over {acc.decided} decisions",
        )
    if acc.decided < min_samples:
        why = f"student has {acc.decided} decisions here (needs {min_samples})"
    else:
        why = f"student acceptance {rate:.2f} < {threshold:.2f} over {acc.decided} decisions"
    return Route(role="teacher", shadow=both, reason=why)


_VERDICT_ACCEPTS = {
    Outcome.ACCEPTED: True,
    Outcome.PARTLY_ACCEPTED: True,  # as before it had its own outcome: the edit landed
    Outcome.CORRECTED: False,  # the user had to change it: not accepted as proposed
    Outcome.REJECTED: False,
    Outcome.REWRITTEN: False,
}


@dataclass
class AcceptanceTracker:
    """Acceptance per (route key, role) from the log, read incrementally and cached.

    Proposals are grouped by `classes.route_key` of their class: the family a request
    can be matched to before the model has answered.
    """

    store: DecisionStore
    classes: ClassSettings = field(default_factory=ClassSettings)
    _seq: int = 0
    _owner: dict[str, tuple[str, str]] = field(default_factory=dict)  # proposal -> (class, role)
    _final: dict[str, bool] = field(default_factory=dict)  # proposal -> accepted as proposed?
    _counts: dict[tuple[str, str], Acceptance] | None = None

    async def _refresh(self) -> None:
        head, _ = await self.store.head()
        if head == self._seq and self._counts is not None:
            return
        for row in await self.store.decisions(after_seq=self._seq):
            if row.proposal_id is None:
                continue
            if row.outcome == Outcome.PROPOSED:
                role = str(row.data.get("role", "student"))
                key = route_key(row.class_key or "", self.classes)
                self._owner[row.proposal_id] = (key, role)
            elif row.outcome in _VERDICT_ACCEPTS and row.actor == Actor.USER:
                self._final[row.proposal_id] = _VERDICT_ACCEPTS[row.outcome]
        self._seq = head
        counts: dict[tuple[str, str], Acceptance] = {}
        for pid, accepted in self._final.items():
            owner = self._owner.get(pid)
            if owner is None:
                continue
            acc = counts.setdefault(owner, Acceptance())
            acc.decided += 1
            acc.accepted += int(accepted)
        self._counts = counts

    async def acceptance(self, key: str, role: str = "student") -> Acceptance:
        """Acceptance for a route key (or a full class key, reduced to its route key)."""
        await self._refresh()
        assert self._counts is not None
        return self._counts.get((route_key(key, self.classes), role), Acceptance())
