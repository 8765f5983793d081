"""Whether the agent is mature enough to leave the editor.

Publishing hands the agent to people and programs who will not review each answer, so it
needs both kinds of evidence Tether has: a profile that has seen enough decisions to know
the user (the share of traffic in mature classes), and an active adapter whose held-out
evaluation clears a bar. `--force` publishes anyway; the bundle and the chained row say so.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from tether.config import PublishSettings
from tether.decisions.models import AdapterRow


class GateCheck(BaseModel):
    name: str
    ok: bool
    value: float | None
    threshold: float
    detail: str


class PublishGate(BaseModel):
    ok: bool
    forced: bool = False
    checks: list[GateCheck] = Field(default_factory=list)

    def failures(self) -> list[GateCheck]:
        return [c for c in self.checks if not c.ok]

    def explain(self) -> str:
        failed = self.failures()
        if not failed:
            return "the gate is open: " + "; ".join(c.detail for c in self.checks)
        return (
            "not published: "
            + "; ".join(c.detail for c in failed)
            + ". Keep deciding on proposals (and train), or publish anyway with --force."
        )


def adapter_score(adapter: AdapterRow | None) -> tuple[str, float | None]:
    """The active adapter's held-out metric: preference accuracy, else ROC AUC (KTO)."""
    if adapter is None:
        return "preference_accuracy", None
    metrics = adapter.metrics or {}
    for name in ("preference_accuracy", "auc"):
        value = metrics.get(name)
        if isinstance(value, int | float):
            return name, float(value)
    metric = metrics.get("metric")
    value = metrics.get("candidate")
    if isinstance(metric, str) and isinstance(value, int | float):
        return metric, float(value)
    return "preference_accuracy", None


def check(
    mature_share: float,
    adapter: AdapterRow | None,
    settings: PublishSettings,
    *,
    force: bool = False,
) -> PublishGate:
    share_ok = mature_share >= settings.min_mature_share
    checks = [
        GateCheck(
            name="mature_share",
            ok=share_ok,
            value=mature_share,
            threshold=settings.min_mature_share,
            detail=f"{mature_share:.0%} of traffic is in mature classes "
            f"({'≥' if share_ok else 'under'} the {settings.min_mature_share:.0%} needed)",
        )
    ]
    metric, score = adapter_score(adapter)
    if adapter is None:
        checks.append(
            GateCheck(
                name="adapter",
                ok=False,
                value=None,
                threshold=settings.min_preference_accuracy,
                detail="there is no active adapter (train one first: `tether train`)",
            )
        )
    else:
        score_ok = score is not None and score >= settings.min_preference_accuracy
        shown = "no held-out evaluation" if score is None else f"{metric} {score:.3f}"
        checks.append(
            GateCheck(
                name="adapter",
                ok=score_ok,
                value=score,
                threshold=settings.min_preference_accuracy,
                detail=f"adapter {adapter.version}: {shown} ({'≥' if score_ok else 'under'} "
                f"the {settings.min_preference_accuracy:.3f} needed)",
            )
        )
    ok = all(c.ok for c in checks)
    return PublishGate(ok=ok or force, forced=force and not ok, checks=checks)
