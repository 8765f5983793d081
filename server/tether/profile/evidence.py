"""Per-class sufficient statistics, and how one decision row changes them.

Only a user's verdict is evidence of what the user approves: accepted counts 1, rejected 0,
corrected `correction_weight`. A correction replaces the user's own accept of the same
proposal (it is one decision, changed after the fact), but is fresh evidence after an
auto-apply, which was the policy's doing. A correction that puts the original text back (the
user undid the edit: `data["reverted"]`) is a rejection, not a partial approval. Rewritten
follows a reject and adds nothing.
Counts are kept as integers and the approval weight derived from them, so a snapshot, a
replay and a rebuild give bit-identical numbers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from tether.core.types import Actor, Outcome
from tether.decisions.models import DecisionRecord

#: How many of the latest user accepts are remembered so that a later correction of one of
#: them replaces its evidence instead of adding to it.
PENDING_ACCEPTS = 1024


@dataclass(slots=True)
class ClassEvidence:
    proposed: int = 0
    accepts: int = 0
    rejects: int = 0
    corrections: int = 0
    ema_sum: float = 0.0  # Σ decay^age · approval
    ema_weight: float = 0.0  # Σ decay^age
    steps: int = 0  # verdicts folded into the moving average
    since_reject: int = 0  # approving verdicts since the class's latest rejection
    reject_run: int = 0  # rejections since the class's latest approving verdict
    unlabeled: int = 0  # proposals since the class's latest user verdict (the check-in rule)

    @property
    def n(self) -> int:
        return self.accepts + self.rejects + self.corrections

    @property
    def traffic(self) -> int:
        """Proposals in the class; verdicts stand in for logs that lack `proposed` rows."""
        return max(self.proposed, self.n)

    def approvals(self, correction_weight: float) -> float:
        return self.accepts + correction_weight * self.corrections

    def disapprovals(self, correction_weight: float) -> float:
        return self.rejects + (1.0 - correction_weight) * self.corrections

    def recent_approvals(self) -> float:
        """Approval weight with each verdict discounted by its age (the moving average's sums)."""
        return self.ema_sum

    def recent_disapprovals(self) -> float:
        return max(self.ema_weight - self.ema_sum, 0.0)

    @property
    def ema(self) -> float | None:
        return self.ema_sum / self.ema_weight if self.ema_weight > 0.0 else None

    def push(self, value: float, decay: float) -> None:
        """Fold one verdict into the (bias-corrected) exponential moving average."""
        self.ema_sum = self.ema_sum * decay + value
        self.ema_weight = self.ema_weight * decay + 1.0
        self.steps += 1

    def note(self, approved: bool) -> None:
        """Count approvals and rejections in a row (the recovery and reject-run rules)."""
        self.since_reject = self.since_reject + 1 if approved else 0
        self.reject_run = 0 if approved else self.reject_run + 1

    def revise(self, step: int, delta: float, decay: float) -> None:
        """Change the value pushed at `step` by `delta`, as if it had been pushed that way."""
        self.ema_sum += delta * decay ** (self.steps - step)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClassEvidence:
        return cls(
            proposed=int(data["proposed"]),
            accepts=int(data["accepts"]),
            rejects=int(data["rejects"]),
            corrections=int(data["corrections"]),
            ema_sum=float(data["ema_sum"]),
            ema_weight=float(data["ema_weight"]),
            steps=int(data["steps"]),
            since_reject=int(data["since_reject"]),
            reject_run=int(data["reject_run"]),
            unlabeled=int(data["unlabeled"]),
        )


def is_user_verdict(record: DecisionRecord) -> bool:
    return record.actor == Actor.USER and record.outcome in (
        Outcome.ACCEPTED,
        Outcome.PARTLY_ACCEPTED,
        Outcome.REJECTED,
        Outcome.CORRECTED,
    )


def is_revert(record: DecisionRecord) -> bool:
    """A correction back to the text before the edit: the user undid it, i.e. rejected it."""
    return record.outcome == Outcome.CORRECTED and bool(record.data.get("reverted"))


def decay_for(half_life: float) -> float:
    """Per-verdict decay so that a verdict's weight halves after `half_life` verdicts."""
    return 0.5 ** (1.0 / half_life)
