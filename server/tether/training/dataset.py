"""Training data from the decision log, in TRL's formats.

Steps, in this order: redact every text (so nothing secret is trained on or exported),
remove exact and near duplicates (before splitting, so no copy straddles the split), split
held-out proposals off (`split.py`), and hash the result so an adapter's lineage names the
exact data it came from.

Rows: DPO pairs are {prompt, chosen, rejected}; KTO examples are {prompt, completion,
label}; both keep the proposal id and seq for lineage, and the trainer drops the extras.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from tether.config import TrainingSettings
from tether.training.dedupe import DedupeStats, dedupe
from tether.training.models import DecisionRange, Method
from tether.training.redaction import RedactFn, redact_fields, redactor
from tether.training.split import held_out_ids

if TYPE_CHECKING:
    from tether.decisions.signals import Signals
    from tether.decisions.store import DecisionStore


class PairRow(BaseModel):
    prompt: str
    chosen: str
    rejected: str
    proposal_id: str
    seq: int
    class_key: str = ""
    source: str = ""

    def trl(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "chosen": self.chosen, "rejected": self.rejected}


class LabelRow(BaseModel):
    prompt: str
    completion: str
    label: bool
    proposal_id: str
    seq: int
    class_key: str = ""
    source: str = ""

    def trl(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "completion": self.completion, "label": self.label}


class CleanData(BaseModel):
    """All examples after redaction and duplicate removal, in seq order."""

    pairs: list[PairRow]
    labels: list[LabelRow]
    redactions: int = 0
    exact_duplicates: int = 0
    near_duplicates: int = 0


class TrainingData(BaseModel):
    """The user's signals split into train and held-out; verifier pairs train only.

    Held-out rows judge an adapter against what the user decided, so tool-labelled pairs
    are never among them.
    """

    pairs_train: list[PairRow]
    pairs_heldout: list[PairRow]
    labels_train: list[LabelRow]
    labels_heldout: list[LabelRow]
    decision_range: DecisionRange
    data_hash: str
    redactions: int = 0
    exact_duplicates: int = 0
    near_duplicates: int = 0
    verifier_pairs: int = 0  # verifier pairs in pairs_train (after weighting)
    verifier_available: int = 0  # verifier pairs in the log (before weighting)

    def method(self, settings: TrainingSettings) -> Method:
        """DPO once the user has given enough pairs; KTO (which also uses pairs, unpaired)
        before.

        Only the user's pairs count: DPO trains on pairs alone, so choosing it because the
        verifier made pairs would drop every accept and reject the user gave.
        """
        user_pairs = sum(p.source != "verifier" for p in self.pairs_train)
        return "dpo" if user_pairs >= settings.min_pairs_for_dpo else "kto"

    def train_rows(self, method: Method) -> list[dict[str, Any]]:
        if method == "dpo":
            return [p.trl() for p in self.pairs_train]
        rows = [ex.trl() for ex in self.labels_train]
        for p in self.pairs_train:  # a pair is one desirable and one undesirable completion
            rows.append({"prompt": p.prompt, "completion": p.chosen, "label": True})
            rows.append({"prompt": p.prompt, "completion": p.rejected, "label": False})
        return rows

    @property
    def heldout_count(self) -> int:
        return len(self.pairs_heldout) + len(self.labels_heldout)

    def trainable(self, settings: TrainingSettings) -> str | None:
        """None when a run makes sense, else the reason it does not (shown to the user)."""
        method = self.method(settings)
        rows = self.train_rows(method)
        if method == "kto":
            if len(rows) < settings.batch_size:
                return (
                    f"not enough decisions to train on yet: {len(rows)} examples, "
                    f"{settings.batch_size} needed"
                )
            if len({r["label"] for r in rows}) < 2:
                return "KTO needs both accepted and rejected examples; only one kind so far"
        if not judgeable_pairs(self.pairs_heldout) and not judgeable_labels(self.labels_heldout):
            return "not enough held-out decisions to judge an adapter with"
        return None


def judgeable_pairs(pairs: list[PairRow]) -> bool:
    return len(pairs) >= 1


def judgeable_labels(labels: list[LabelRow]) -> bool:
    return len({ex.label for ex in labels}) == 2  # AUC needs both kinds


def clean(signals: Signals, *, threshold: float, redact: RedactFn | None = None) -> CleanData:
    """Redact, then remove duplicates; the shared first half of training and export."""
    fn = redact or redactor()
    redactions = 0
    pairs: list[PairRow] = []
    for p in signals.dpo:
        fields, n = redact_fields(
            {"prompt": p.prompt, "chosen": p.chosen, "rejected": p.rejected}, fn
        )
        redactions += n
        pairs.append(
            PairRow(
                **fields,
                proposal_id=p.proposal_id,
                seq=p.seq,
                class_key=p.class_key,
                source=p.source,
            )
        )
    labels: list[LabelRow] = []
    for k in signals.kto:
        fields, n = redact_fields({"prompt": k.prompt, "completion": k.completion}, fn)
        redactions += n
        labels.append(
            LabelRow(
                **fields,
                label=k.label,
                proposal_id=k.proposal_id,
                seq=k.seq,
                class_key=k.class_key,
                source=k.source,
            )
        )
    pairs, pair_stats = dedupe(
        pairs, lambda p: (p.prompt, p.rejected, p.chosen), threshold=threshold
    )
    labels, label_stats = dedupe(labels, lambda k: (k.prompt, k.completion), threshold=threshold)
    stats = DedupeStats(
        exact=pair_stats.exact + label_stats.exact, near=pair_stats.near + label_stats.near
    )
    return CleanData(
        pairs=pairs,
        labels=labels,
        redactions=redactions,
        exact_duplicates=stats.exact,
        near_duplicates=stats.near,
    )


def build_training_data(
    signals: Signals,
    settings: TrainingSettings,
    *,
    head: tuple[int, str],
    redact: RedactFn | None = None,
) -> TrainingData:
    data = clean(signals, threshold=settings.dedupe_threshold, redact=redact)
    verifier = [p for p in data.pairs if p.source == "verifier"]
    data.pairs = [p for p in data.pairs if p.source != "verifier"]
    weighted = [p for p in verifier if _kept(p, settings.verifier_weight)]
    everything: list[PairRow | LabelRow] = [*data.pairs, *data.labels]

    def judgeable(held: list[PairRow | LabelRow]) -> bool:
        pairs = [x for x in held if isinstance(x, PairRow)]
        labels = [x for x in held if isinstance(x, LabelRow)]
        return judgeable_pairs(pairs) or judgeable_labels(labels)

    held = held_out_ids(everything, settings.held_out_fraction, judgeable)
    seqs = [x.seq for x in everything]
    out = TrainingData(
        pairs_train=[p for p in data.pairs if p.proposal_id not in held] + weighted,
        pairs_heldout=[p for p in data.pairs if p.proposal_id in held],
        labels_train=[k for k in data.labels if k.proposal_id not in held],
        labels_heldout=[k for k in data.labels if k.proposal_id in held],
        decision_range=DecisionRange(
            first_seq=min(seqs) if seqs else None,
            last_seq=max(seqs) if seqs else None,
            head_seq=head[0],
            head_hash=head[1],
        ),
        data_hash="",
        redactions=data.redactions,
        exact_duplicates=data.exact_duplicates,
        near_duplicates=data.near_duplicates,
        verifier_pairs=len(weighted),
        verifier_available=len(verifier),
    )
    out.data_hash = data_hash(out)
    return out


def _kept(pair: PairRow, weight: float) -> bool:
    """Whether a verifier pair is trained on: with probability `weight`, by its own hash."""
    if weight >= 1:
        return True
    digest = hashlib.sha256(f"{pair.prompt}\0{pair.chosen}\0{pair.rejected}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < weight


def data_hash(data: TrainingData) -> str:
    """sha256 of the examples and their sides, in a canonical form (order, keys, encoding)."""

    def rows(items: Iterable[PairRow | LabelRow]) -> list[dict[str, Any]]:
        return [{**x.trl(), "proposal_id": x.proposal_id, "seq": x.seq} for x in items]

    body = {
        "pairs_train": rows(data.pairs_train),
        "pairs_heldout": rows(data.pairs_heldout),
        "labels_train": rows(data.labels_train),
        "labels_heldout": rows(data.labels_heldout),
    }
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


async def load_training_data(
    store: DecisionStore, settings: TrainingSettings, *, redact: RedactFn | None = None
) -> TrainingData:
    """Everything the log holds up to its current head."""
    from tether.decisions.signals import load_signals

    head = await store.head()
    signals = await load_signals(store, after_seq=0, until_seq=head[0])
    return build_training_data(signals, settings, head=head, redact=redact)


def write_jsonl(path: Any, rows: Iterable[dict[str, Any]]) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n
