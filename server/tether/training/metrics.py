"""Eval numbers from implicit rewards: preference accuracy, ROC AUC and mean margins.

Pure numpy/scipy so they are cheap to test; ties count half everywhere, which is what
makes the base model (reward exactly 0) score 0.5 rather than 0 or 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import rankdata

#: Rewards closer than this are a tie (adapters with zero B matrices give bit-equal scores,
#: but batched kernels may differ in the last bits).
TIE = 1e-6


def preference_accuracy(chosen: Sequence[float], rejected: Sequence[float]) -> float | None:
    if len(chosen) == 0:
        return None
    diff = np.asarray(chosen, dtype=float) - np.asarray(rejected, dtype=float)
    wins = (diff > TIE).astype(float) + 0.5 * (np.abs(diff) <= TIE)
    return float(wins.mean())


def mean_margin(chosen: Sequence[float], rejected: Sequence[float]) -> float | None:
    if len(chosen) == 0:
        return None
    return float(np.mean(np.asarray(chosen, dtype=float) - np.asarray(rejected, dtype=float)))


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Mann-Whitney AUC: the chance a desirable example outscores an undesirable one."""
    y = np.asarray(labels, dtype=bool)
    n_pos = int(y.sum())
    n_neg = int(len(y) - n_pos)
    if n_pos == 0 or n_neg == 0:
        return None
    s = np.round(np.asarray(scores, dtype=float) / TIE) * TIE  # ties within TIE share a rank
    ranks = rankdata(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def label_margin(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    if y.all() or not y.any():
        return None
    return float(s[y].mean() - s[~y].mean())
