"""The profile as the user sees it (`tether profile`, the editors' side panel)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel

from tether.profile.models import ClassStats, Mode, Override, PriorFit
from tether.profile.profile import Profile


class ClassView(ClassStats):
    """A class's numbers with the policy it gets now (without the exploration draw)."""

    policy: Mode
    override: Override | None = None
    reason: str
    pin: str | None = None


class ProfileView(BaseModel):
    head_seq: int
    decisions: int
    mature: bool
    mature_share: float
    maturity_share: float
    auto_threshold: float
    quiet_threshold: float
    credible_mass: float
    prior: PriorFit
    classes: list[ClassView]


def profile_view(profile: Profile, pins: Mapping[str, str] | None = None) -> ProfileView:
    pins = pins or {}
    keys = [c.class_key for c in profile.classes()]
    keys += sorted(k for k in pins if k not in set(keys))  # pinned classes not yet seen
    rows: list[ClassView] = []
    for key in keys:
        decision = profile.decide(key, pins=pins, explore=False)
        rows.append(
            ClassView(
                **profile.stats(key).model_dump(exclude={"width"}),
                policy=decision.mode,
                override=decision.override,
                reason=decision.reason,
                pin=pins.get(key),
            )
        )
    s = profile.settings
    return ProfileView(
        head_seq=profile.last_seq,
        decisions=profile.decisions,
        mature=profile.mature(),
        mature_share=profile.mature_share(),
        maturity_share=s.maturity_share,
        auto_threshold=s.auto_threshold,
        quiet_threshold=s.quiet_threshold,
        credible_mass=s.credible_mass,
        prior=profile.prior(),
        classes=rows,
    )
