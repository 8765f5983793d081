"""Eval numbers and the gate's decision."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from tether.training import metrics
from tether.training.gate import judge
from tether.training.models import EvalReport, ModelScores


def test_auc_matches_sklearn_including_ties() -> None:
    rng = np.random.default_rng(0)
    scores = np.round(rng.normal(size=60), 1)  # rounding makes many ties
    labels = rng.random(60) < 0.4
    assert metrics.roc_auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores))
    assert metrics.roc_auc([0.0] * 4, [True, False, True, False]) == 0.5
    assert metrics.roc_auc([1.0, 2.0], [True, True]) is None  # one class: undefined


def test_preference_accuracy_counts_ties_half_and_margin_is_the_mean_gap() -> None:
    assert metrics.preference_accuracy([1.0, 0.0, 2.0], [0.0, 0.0, 3.0]) == 0.5
    assert metrics.mean_margin([1.0, 0.0, 2.0], [0.0, 0.0, 3.0]) == 0.0
    assert metrics.preference_accuracy([], []) is None
    assert metrics.label_margin([2.0, 0.0, 1.0], [True, False, True]) == 1.5


def _report(candidate: float, active: float | None, *, pairs: int = 4) -> EvalReport:
    def s(acc: float) -> ModelScores:
        return ModelScores(preference_accuracy=acc, auc=acc, pairs=pairs, labels=4)

    return EvalReport(
        base=s(0.5), active=s(active) if active is not None else None, candidate=s(candidate)
    )


def test_gate_compares_with_the_active_adapter_within_the_margin() -> None:
    assert judge(_report(0.75, 0.75), 0.0).promote  # at least as good
    refused = judge(_report(0.5, 0.75), 0.0)
    assert not refused.promote and refused.reference_name == "active"
    assert "0.500 < active 0.750" in refused.reason
    assert judge(_report(0.7, 0.75), 0.1).promote  # a tolerated dip
    assert not judge(_report(0.75, 0.75), -0.05).promote  # demand strictly better


def test_gate_uses_the_base_without_an_active_adapter_and_auc_without_pairs() -> None:
    first = judge(_report(0.5, None), 0.0)
    assert first.promote and first.reference_name == "base" and first.reference == 0.5
    assert not judge(_report(0.25, None), 0.0).promote
    assert judge(_report(0.9, None, pairs=0), 0.0).metric == "auc"


def test_a_step_is_split_into_small_passes_to_bound_memory() -> None:
    from tether.training.trainer import micro_batches

    assert micro_batches("dpo", 4, 1) == (1, 4)
    assert micro_batches("kto", 4, 1) == (2, 2)  # KTO's KL estimate needs 2 per pass
    assert micro_batches("dpo", 2, 4) == (2, 1)
    assert micro_batches("dpo", 5, 2) == (2, 3)
