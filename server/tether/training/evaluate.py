"""Score base, active and candidate on the held-out decisions (runs in the worker).

Every completion is scored once under the base model and once under each adapter; the
rewards are differences against the base, so the base's own scores are all zero.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tether.training import metrics
from tether.training.models import EvalReport, ModelScores
from tether.training.scoring import AdapterModel, adapter_logps


def evaluate(
    am: AdapterModel,
    pairs: Sequence[dict[str, Any]],
    labels: Sequence[dict[str, Any]],
    *,
    candidate: str,
    active: str | None,
    beta: float,
    max_length: int,
    on_step: Callable[[str], None] | None = None,
) -> EvalReport:
    prompts = [p["prompt"] for p in pairs] * 2 + [k["prompt"] for k in labels]
    completions = (
        [p["chosen"] for p in pairs]
        + [p["rejected"] for p in pairs]
        + [k["completion"] for k in labels]
    )
    n = len(pairs)
    y = [bool(k["label"]) for k in labels]

    def logps(adapter: str | None) -> list[float]:
        if on_step:
            on_step(adapter or "base")
        return adapter_logps(am, prompts, completions, adapter=adapter, max_length=max_length)

    base = logps(None)

    def scores(lp: list[float]) -> ModelScores:
        reward = [beta * (a - b) for a, b in zip(lp, base, strict=True)]
        return ModelScores(
            preference_accuracy=metrics.preference_accuracy(reward[:n], reward[n : 2 * n]),
            pairs_margin=metrics.mean_margin(reward[:n], reward[n : 2 * n]),
            policy_accuracy=metrics.preference_accuracy(lp[:n], lp[n : 2 * n]),
            auc=metrics.roc_auc(reward[2 * n :], y),
            labels_margin=metrics.label_margin(reward[2 * n :], y),
            pairs=n,
            labels=len(labels),
        )

    return EvalReport(
        base=scores(base),
        active=scores(logps(active)) if active else None,
        candidate=scores(logps(candidate)),
    )
