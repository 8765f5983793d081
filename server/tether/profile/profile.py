"""The profile: per decision class, how likely the user is to approve, learned from the log.

Pure and synchronous: it folds decision rows in order (`observe`) and answers questions
(`stats`, `decide`, `mature`). Persistence and keeping in step with the store live in
`tether.profile.store`. Work is proportional to what changed: a verdict updates one class and
marks the priors stale; they are refitted (O(classes)) on the next question, and a class's
numbers are cached until its evidence or a prior changes. Each class stands on its kind's
prior (when the key carries the kind of change), its task family's, or the pool's, whichever
is the narrowest with enough verdicts to fit one (`tether.profile.hierarchy`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from tether.config import ClassSettings, PolicySettings
from tether.core.types import ACCEPTS, Outcome
from tether.decisions.models import DecisionRecord
from tether.profile import beta
from tether.profile.evidence import (
    PENDING_ACCEPTS,
    ClassEvidence,
    decay_for,
    is_revert,
    is_user_verdict,
)
from tether.profile.hierarchy import KeyShape, PriorTree
from tether.profile.models import ClassStats, MaturityEvent, PolicyDecision, PriorFit
from tether.profile.policy import RandomSource
from tether.profile.policy import decide as policy_decide

#: 2: `since_reject`; 3: `unlabeled` per class; 4: reverts are rejections; 5: per kind
SNAPSHOT_FORMAT = 5


#: A rejection in a class whose moving average of approval is at least this is a surprise
#: that puts the whole task family back on recovery (see `Profile._alert_family`).
SURPRISE = 0.5


class SnapshotError(ValueError):
    """A snapshot this profile cannot continue from (other format or settings, or damaged)."""


def evidence_fingerprint(settings: PolicySettings) -> dict[str, float]:
    """The settings baked into the stored state; a snapshot made under others is stale."""
    return {
        "correction_weight": settings.correction_weight,
        "ema_half_life": settings.ema_half_life,
    }


class Profile:
    def __init__(self, settings: PolicySettings, parts: Sequence[str] | None = None) -> None:
        """`parts`: the class key's parts (`classes.parts`), to find the task and the kind."""
        self.settings = settings
        self.shape = KeyShape(tuple(parts if parts is not None else ClassSettings().parts))
        self.last_seq = 0
        self._classes: dict[str, ClassEvidence] = {}
        # proposal id -> (class, moving-average step) of recent user accepts
        self._pending: OrderedDict[str, tuple[str, int]] = OrderedDict()
        self._mature: set[str] = set()
        self._traffic = 0
        self._mature_traffic = 0
        self._decay = decay_for(settings.ema_half_life)
        self._tree: PriorTree | None = None
        self._families: dict[str, set[str]] = {}  # task family -> its classes
        self._groups: dict[str, set[str]] = {}  # kind group (task:kind) -> its classes
        self._group_unlabeled: dict[str, int] = {}  # kind group -> proposals since a verdict
        self._cache: dict[str, ClassStats] = {}

    # ------------------------------------------------------------------ learning
    def observe(self, record: DecisionRecord) -> list[MaturityEvent]:
        """Fold one decision row in; rows at or before `last_seq` were seen and are skipped."""
        if record.seq <= self.last_seq:
            return []
        self.last_seq = record.seq
        key = record.class_key
        if key is None:
            return []
        was_mature = self.mature()
        events: list[MaturityEvent] = []
        if record.outcome == Outcome.PROPOSED:
            ev = self._evidence(key)
            before = ev.traffic
            ev.proposed += 1
            ev.unlabeled += 1
            self._count_traffic(key, ev.traffic - before)
            group = self.shape.group(key)
            if group is None:
                self._cache.pop(key, None)  # its traffic and unlabeled count changed
            else:  # and the unlabeled count of every class of its kind
                self._group_unlabeled[group] = self._group_unlabeled.get(group, 0) + 1
                for other in self._groups.get(group, ()):
                    self._cache.pop(other, None)
        elif is_user_verdict(record):
            events += self._verdict(key, record)
        else:
            return []
        if self.mature() != was_mature:
            events.append(self._profile_event(record.seq))
        return events

    def _verdict(self, key: str, record: DecisionRecord) -> list[MaturityEvent]:
        w = self.settings.correction_weight
        accepted = None
        if record.outcome == Outcome.CORRECTED and record.proposal_id is not None:
            accepted = self._pending.pop(record.proposal_id, None)
        if accepted is not None:
            key = accepted[0]  # the class the accept was counted in
        ev = self._evidence(key)
        before = ev.traffic
        ev.unlabeled = 0
        group = self.shape.group(key)
        if group is not None:
            self._group_unlabeled[group] = 0
        if record.outcome in ACCEPTS:
            ev.accepts += 1
            ev.push(1.0, self._decay)
            ev.note(approved=True)
            if record.proposal_id is not None:
                self._pending[record.proposal_id] = (key, ev.steps)
                self._pending.move_to_end(record.proposal_id)
                while len(self._pending) > PENDING_ACCEPTS:
                    self._pending.popitem(last=False)
        elif accepted is not None and is_revert(record):  # the user undid their own accept
            ev.accepts -= 1
            ev.rejects += 1
            ev.revise(accepted[1], -1.0, self._decay)
            ev.note(approved=False)
        elif record.outcome == Outcome.REJECTED or is_revert(record):
            # a revert after an auto-apply is the user's first verdict on it: a rejection
            if ev.ema is not None and ev.ema >= SURPRISE:
                self._alert_family(key)
            ev.rejects += 1
            ev.push(0.0, self._decay)
            ev.note(approved=False)
        elif accepted is not None:  # the user changed their own accept: replace its evidence
            ev.accepts -= 1
            ev.corrections += 1
            ev.revise(accepted[1], w - 1.0, self._decay)
        else:  # corrected after an auto-apply: the user's first verdict on it
            ev.corrections += 1
            ev.push(w, self._decay)
            ev.note(approved=True)
        self._count_traffic(key, ev.traffic - before)
        self._forget_fits()
        return self._class_maturity(key, ev, record.seq)

    def _forget_fits(self) -> None:
        self._tree = None
        self._cache.clear()

    def _evidence(self, key: str) -> ClassEvidence:
        ev = self._classes.get(key)
        if ev is None:
            ev = self._classes[key] = ClassEvidence()
            self._index(key)
        return ev

    def _index(self, key: str) -> None:
        self._families.setdefault(self.shape.task(key), set()).add(key)
        group = self.shape.group(key)
        if group is not None:
            self._groups.setdefault(group, set()).add(key)

    def _alert_family(self, key: str) -> None:
        """A surprising rejection: every class of the same kind (else task) recovers again.

        The user usually changes their mind about a kind of edit, not about one class of it.
        Auto classes see no rejections of their own (applied edits are not evidence), so
        a sibling class that is still asked is often the first to notice. When keys carry
        the kind of change, the siblings are the kind's classes: a change of mind about type
        hints says nothing about docstrings.
        """
        group = self.shape.group(key)
        siblings = (
            self._groups.get(group, ())
            if group is not None
            else self._families.get(self.shape.task(key), ())
        )
        for other in siblings:
            self._classes[other].since_reject = 0

    def _count_traffic(self, key: str, delta: int) -> None:
        self._traffic += delta
        if key in self._mature:
            self._mature_traffic += delta

    def _class_maturity(self, key: str, ev: ClassEvidence, seq: int) -> list[MaturityEvent]:
        width = self._evidence_width(ev)
        now = width < self.settings.maturity_width
        if now == (key in self._mature):
            return []
        if now:
            self._mature.add(key)
            self._mature_traffic += ev.traffic
        else:
            self._mature.discard(key)
            self._mature_traffic -= ev.traffic
        state = "mature" if now else "no longer mature"
        return [
            MaturityEvent(
                kind="class",
                class_key=key,
                mature=now,
                seq=seq,
                width=width,
                share=self.mature_share(),
                message=(
                    f"class {key} is {state}: its own {ev.n} verdicts give an interval "
                    f"{width:.3f} wide (mature under {self.settings.maturity_width:g})"
                ),
            )
        ]

    def _profile_event(self, seq: int) -> MaturityEvent:
        now = self.mature()
        share = self.mature_share()
        return MaturityEvent(
            kind="profile",
            mature=now,
            seq=seq,
            share=share,
            message=(
                f"profile is {'mature' if now else 'no longer mature'}: {share:.0%} of traffic "
                f"is in mature classes (needs {self.settings.maturity_share:.0%})"
            ),
        )

    def _evidence_width(self, ev: ClassEvidence) -> float:
        w = self.settings.correction_weight
        lo, hi = beta.interval(
            1.0 + ev.approvals(w), 1.0 + ev.disapprovals(w), self.settings.credible_mass
        )
        return hi - lo

    # ------------------------------------------------------------------ questions
    def _priors(self) -> PriorTree:
        if self._tree is None:
            w = self.settings.correction_weight

            def counts(k: str) -> tuple[float, float]:
                return self._classes[k].approvals(w), float(self._classes[k].n)

            self._tree = PriorTree(self.settings, self.shape, counts, list(self._classes))
        return self._tree

    def prior(self) -> PriorFit:
        """The pool's prior, fitted across every class (in key order, so rebuilds match)."""
        return self._priors().pool()

    def family_pool(self) -> PriorFit:
        """The top of the hierarchy: a prior fitted across task families' pooled verdicts."""
        return self._priors().top()

    def prior_for(self, class_key: str) -> PriorFit:
        """The prior of one class: its kind's, else its task family's, else the pool's."""
        return self._priors().prior_for(class_key)

    def _kind_numbers(self, class_key: str, ev: ClassEvidence) -> dict[str, Any]:
        """The kind's counts that the check-in rule and the reasons read (see `ClassStats`)."""
        group = self.shape.group(class_key)
        if group is None:
            return {
                "kind": None,
                "kind_verdicts": ev.n,
                "kind_rejects": ev.rejects,
                "kind_unlabeled": ev.unlabeled,
            }
        members = [self._classes[k] for k in sorted(self._groups.get(group, ()))]
        return {
            "kind": self.shape.kind(class_key),
            "kind_verdicts": sum(m.n for m in members),
            "kind_rejects": sum(m.rejects for m in members),
            "kind_unlabeled": self._group_unlabeled.get(group, 0),
        }

    def stats(self, class_key: str) -> ClassStats:
        """Numbers for a class; a class never seen gets the prior alone."""
        cached = self._cache.get(class_key)
        if cached is not None:
            return cached
        ev = self._classes.get(class_key) or ClassEvidence()
        prior = self.prior_for(class_key)
        s = self.settings
        w = s.correction_weight
        a = prior.alpha + ev.approvals(w)
        b = prior.beta + ev.disapprovals(w)
        lower, upper = beta.interval(a, b, s.credible_mass)
        ra = prior.alpha + ev.recent_approvals()
        rb = prior.beta + ev.recent_disapprovals()
        recent_lower, recent_upper = beta.interval(ra, rb, s.credible_mass)
        run_upper = beta.interval(prior.alpha, prior.beta + ev.reject_run, s.credible_mass)[1]
        stats = ClassStats(
            class_key=class_key,
            n=ev.n,
            accepts=ev.accepts,
            rejects=ev.rejects,
            corrections=ev.corrections,
            traffic=ev.traffic,
            approvals=ev.approvals(w),
            prior_alpha=prior.alpha,
            prior_beta=prior.beta,
            prior_method=prior.method,
            prior_reason=prior.reason,
            alpha=a,
            beta=b,
            mean=a / (a + b),
            lower=lower,
            upper=upper,
            credible_mass=s.credible_mass,
            ema=ev.ema,
            ema_weight=ev.ema_weight,
            recent_alpha=ra,
            recent_beta=rb,
            recent_mean=ra / (ra + rb),
            recent_lower=recent_lower,
            recent_upper=recent_upper,
            since_reject=ev.since_reject,
            reject_run=ev.reject_run,
            unlabeled=ev.unlabeled,
            run_upper=run_upper,
            run_mean=prior.alpha / (prior.strength + ev.reject_run),
            evidence_width=self._evidence_width(ev),
            mature=class_key in self._mature,
            **self._kind_numbers(class_key, ev),
        )
        self._cache[class_key] = stats
        return stats

    def classes(self) -> list[ClassStats]:
        """Every class seen so far, busiest first."""
        keys = sorted(self._classes, key=lambda k: (-self._classes[k].traffic, k))
        return [self.stats(k) for k in keys]

    def decide(
        self,
        class_key: str,
        risk: Collection[str] = (),
        *,
        pins: Mapping[str, str] | None = None,
        always_ask: bool = False,
        rng: RandomSource | None = None,
        explore: bool = True,
    ) -> PolicyDecision:
        """Ask, auto-apply or stay quiet for a proposal of `class_key`.

        `pins` are the user's pins (`store.pins()`), `always_ask` the agent spec's boundary
        for the task, `rng` the exploration draw (seed it for reproducible runs); views pass
        `explore=False` to show the policy without the random draw.
        """
        return policy_decide(
            self.stats(class_key),
            self.settings,
            risk,
            pins=pins,
            always_ask=always_ask,
            rng=rng,
            explore=explore,
        )

    def mature_share(self) -> float:
        return self._mature_traffic / self._traffic if self._traffic else 0.0

    def mature(self) -> bool:
        return self._traffic > 0 and self.mature_share() >= self.settings.maturity_share

    @property
    def decisions(self) -> int:
        """User verdicts observed, over all classes."""
        return sum(ev.n for ev in self._classes.values())

    # ------------------------------------------------------------------ settings
    def update_settings(self, settings: PolicySettings) -> bool:
        """Adopt new thresholds in place; False when the change needs a rebuild from the log."""
        if evidence_fingerprint(settings) != evidence_fingerprint(self.settings):
            return False
        self.settings = settings
        self._recompute_maturity()
        return True

    def _recompute_maturity(self) -> None:
        self._forget_fits()
        self._families = {}
        self._groups = {}
        for key in self._classes:
            self._index(key)
        self._mature = {
            k
            for k, ev in self._classes.items()
            if self._evidence_width(ev) < self.settings.maturity_width
        }
        self._traffic = sum(ev.traffic for ev in self._classes.values())
        self._mature_traffic = sum(self._classes[k].traffic for k in self._mature)

    # ------------------------------------------------------------------ persistence
    def to_snapshot(self) -> dict[str, Any]:
        """JSON-ready state from which `from_snapshot` continues bit-identically."""
        return {
            "format": SNAPSHOT_FORMAT,
            "settings": evidence_fingerprint(self.settings),
            "last_seq": self.last_seq,
            "classes": {k: ev.to_json() for k, ev in sorted(self._classes.items())},
            "pending": [[pid, key, step] for pid, (key, step) in self._pending.items()],
            "parts": list(self.shape.parts),
            "kinds_unlabeled": dict(sorted(self._group_unlabeled.items())),
        }

    @classmethod
    def from_snapshot(
        cls,
        body: Mapping[str, Any],
        settings: PolicySettings,
        parts: Sequence[str] | None = None,
    ) -> Profile:
        if body.get("format") != SNAPSHOT_FORMAT:
            raise SnapshotError(f"snapshot format {body.get('format')!r} is not {SNAPSHOT_FORMAT}")
        if body.get("settings") != evidence_fingerprint(settings):
            raise SnapshotError(
                f"snapshot made with {body.get('settings')}, now {evidence_fingerprint(settings)}"
            )
        profile = cls(settings, parts)
        if body.get("parts") != list(profile.shape.parts):
            raise SnapshotError(
                f"snapshot made with class parts {body.get('parts')}, now {profile.shape.parts}"
            )
        try:
            profile.last_seq = int(body["last_seq"])
            profile._classes = {
                str(k): ClassEvidence.from_json(v) for k, v in body["classes"].items()
            }
            profile._pending = OrderedDict(
                (str(pid), (str(key), int(step))) for pid, key, step in body["pending"]
            )
            profile._group_unlabeled = {str(k): int(v) for k, v in body["kinds_unlabeled"].items()}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SnapshotError(f"damaged snapshot: {exc!r}") from exc
        profile._recompute_maturity()
        return profile
