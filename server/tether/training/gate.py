"""The eval gate: a candidate replaces the active adapter only if it is at least as good.

"Good" is preference accuracy on held-out pairs when there are any (the sharpest signal:
the user said which of two they wanted), else the ROC AUC of the reward against held-out
accept/reject labels. The reference is the active adapter, or the base model when none is
active; `eval_margin` lets a user accept a slightly worse candidate (positive) or demand
a strictly better one (negative).
"""

from __future__ import annotations

from tether.training.models import EvalReport, GateDecision, ModelScores


def primary_metric(report: EvalReport) -> str:
    return "preference_accuracy" if report.candidate.pairs > 0 else "auc"


def _value(scores: ModelScores, metric: str) -> float:
    value = getattr(scores, metric)
    return 0.5 if value is None else float(value)  # chance level when it cannot be computed


def judge(report: EvalReport, eval_margin: float) -> GateDecision:
    metric = primary_metric(report)
    ref_name = "active" if report.active is not None else "base"
    ref_scores = report.active if report.active is not None else report.base
    cand = _value(report.candidate, metric)
    ref = _value(ref_scores, metric)
    promote = cand >= ref - eval_margin - 1e-12
    label = metric.replace("_", " ")
    if promote:
        reason = f"candidate {label} {cand:.3f} >= {ref_name} {ref:.3f} - margin {eval_margin:g}"
    else:
        reason = f"candidate {label} {cand:.3f} < {ref_name} {ref:.3f} - margin {eval_margin:g}"
    return GateDecision(
        promote=promote,
        metric=metric,
        candidate=cand,
        reference=ref,
        reference_name=ref_name,
        eval_margin=eval_margin,
        reason=reason,
    )
