"""What the profile hands to the rest of Tether: per-class numbers, policy choices, events."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

Mode = Literal["auto", "ask", "quiet"]
Override = Literal["boundary", "pin", "drift", "recovery", "exploration"]


class PriorFit(BaseModel):
    """An empirical-Bayes prior (the pool's, or one task family's), and how it was obtained."""

    model_config = ConfigDict(frozen=True)

    alpha: float
    beta: float
    method: Literal["weak", "pooled", "family", "kind"]
    family: str | None = Field(
        None, description="The task of a family prior; `task:kind` of a kind's prior."
    )
    classes: int = Field(description="Classes with user verdicts that the fit used.")
    decisions: float = Field(description="User verdicts behind the fit.")
    pooled_mean: float | None = Field(None, description="Approval rate over all classes.")
    reason: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def strength(self) -> float:
        return self.alpha + self.beta


class ClassStats(BaseModel):
    """One decision class: its evidence, its posterior and its moving average."""

    model_config = ConfigDict(frozen=True)

    class_key: str
    n: int = Field(description="User verdicts (accepted + rejected + corrected).")
    accepts: int
    rejects: int
    corrections: int
    traffic: int = Field(description="Proposals seen in the class (for the maturity share).")
    approvals: float = Field(description="Approval weight: accepts + w * corrections.")
    prior_alpha: float
    prior_beta: float
    prior_method: Literal["weak", "pooled", "family", "kind"] = Field(
        description="Where the class's prior comes from: its kind of change (within its task),"
        " its task family, the pool, or uniform."
    )
    prior_reason: str = Field(description="How that prior was fitted, with its numbers.")
    alpha: float
    beta: float
    mean: float
    lower: float
    upper: float
    credible_mass: float
    ema: float | None = Field(description="Moving average of approval; None before any verdict.")
    ema_weight: float = Field(description="Effective number of verdicts behind the average.")
    recent_alpha: float = Field(
        description="The recent posterior: the prior plus every verdict discounted by its age"
        " (the moving average's half-life), so it follows a user who changed their mind."
    )
    recent_beta: float
    recent_mean: float = Field(
        description="The predicted approval of the next proposal (the recent posterior's mean)."
    )
    recent_lower: float
    recent_upper: float
    since_reject: int = Field(description="Approving verdicts since the latest rejection.")
    reject_run: int = Field(description="Rejections since the latest approving verdict.")
    unlabeled: int = Field(
        0,
        description="Proposals since the latest user verdict, the one being decided included"
        " (what the check-in rule counts).",
    )
    run_mean: float = Field(description="Approval from the prior and the run of rejections alone.")
    run_upper: float = Field(
        description="Upper credible bound of approval from the prior and the run of rejections"
        " alone: the class as if the user changed their mind when the run began."
    )
    evidence_width: float = Field(
        description="Width of the interval from the class's own verdicts alone (uniform prior);"
        " maturity is judged on it so the pooled prior cannot make an unseen class mature."
    )
    mature: bool
    kind: str | None = Field(
        None, description="The kind of change the key names (None: the key has no kind part)."
    )
    kind_verdicts: int = Field(
        0,
        description="User verdicts on this kind of change in this task, over all its classes"
        " (the class's own when the key has no kind): what the reasons quote.",
    )
    kind_rejects: int = 0
    kind_unlabeled: int = Field(
        0,
        description="Proposals of this kind since its latest user verdict (the class's own"
        " count when the key has no kind): the check-in rule counts per kind.",
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def width(self) -> float:
        return self.upper - self.lower


class PolicyDecision(BaseModel):
    """What to do with one proposal, and why, with the numbers the editor can show."""

    model_config = ConfigDict(frozen=True)

    class_key: str
    mode: Mode
    base_mode: Mode = Field(description="What the posterior alone said, before any override.")
    override: Override | None = None
    reason: str
    numbers: dict[str, Any]
    risky: bool = Field(False, description="A risky flag is set: prompt through a modal dialog.")
    risky_flags: list[str] = Field(default_factory=list)


class MaturityEvent(BaseModel):
    """A class, or the whole profile, became mature or stopped being mature."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["class", "profile"]
    class_key: str | None = None
    mature: bool
    seq: int = Field(description="The decision row that caused the change.")
    width: float | None = Field(None, description="Class events: the evidence interval width.")
    share: float = Field(description="Share of traffic in mature classes after the change.")
    message: str
