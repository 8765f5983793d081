"""Training data from a real store: TRL formats, duplicates, redaction, split, hash."""

from __future__ import annotations

from tether.config import TrainingSettings
from tether.core.types import Actor, Outcome
from tether.decisions import DecisionStore
from tether.decisions.signals import load_signals
from tether.training.dataset import build_training_data, load_training_data
from tether.training.split import hash_unit

from .helpers import FUNCTIONS, proposal, record_corrections, record_labels, typed, untyped

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"


async def test_pairs_and_labels_come_out_in_trl_formats(ws_store: DecisionStore) -> None:
    await record_corrections(ws_store, 6)
    await record_labels(ws_store, 6)
    data = await load_training_data(ws_store, TrainingSettings(held_out_fraction=0.3))
    pairs = data.pairs_train + data.pairs_heldout
    labels = data.labels_train + data.labels_heldout
    assert len(pairs) == 6 and len(labels) == 6
    assert set(pairs[0].trl()) == {"prompt", "chosen", "rejected"}
    assert set(labels[0].trl()) == {"prompt", "completion", "label"}
    # the exact prompt the proposal was made with, and the user's text as the chosen side
    first = await ws_store.get_proposal("c000")
    by_id = {p.proposal_id: p for p in pairs}
    assert by_id["c000"].prompt == first.prompt
    assert "a: int, b: int" in by_id["c000"].chosen and by_id["c000"].rejected == first.completion
    assert data.method(TrainingSettings(min_pairs_for_dpo=4)) in ("dpo", "kto")
    kto_rows = data.train_rows("kto")  # KTO uses pairs too: chosen desirable, rejected not
    assert len(kto_rows) == len(data.labels_train) + 2 * len(data.pairs_train)


async def test_exact_and_near_duplicates_are_removed_keeping_the_newest(
    ws_store: DecisionStore,
) -> None:
    name, op = FUNCTIONS[0]
    surroundings = "".join(f"setting_{i} = {i}\n" for i in range(20))
    original = surroundings + f"def {name}(a, b): return a{op}b\n"
    answer = untyped(name, op)
    drifted = original.replace("setting_5 = 5", "setting_5 = 6")
    variants = [  # (context the proposal was made in, proposed text)
        (drifted, answer),  # near: the file around the change drifted a little
        (original, answer.replace("    return", "    return ")),  # whitespace only: exact
        (original, answer),  # exact copy
        (original, answer),  # the newest of the four: kept
        (original, "def add(x):\n    return [i * 2 for i in range(x)]\n"),  # different
    ]
    for i, (context, text) in enumerate(variants):
        p = proposal(f"d{i}", name, context, text)
        await ws_store.add_proposal(p)
        await ws_store.record(Outcome.REJECTED, actor=Actor.USER, proposal_id=p.id)
    data = await load_training_data(ws_store, TrainingSettings(dedupe_threshold=0.95))
    kept = sorted(k.proposal_id for k in data.labels_train + data.labels_heldout)
    assert kept == ["d3", "d4"]
    assert data.exact_duplicates == 2 and data.near_duplicates == 1


async def test_one_changed_token_in_short_code_is_not_a_duplicate(
    ws_store: DecisionStore,
) -> None:
    await record_corrections(ws_store, 12)  # bit_or / bit_xor, add / plus … all different
    data = await load_training_data(ws_store, TrainingSettings(dedupe_threshold=0.95))
    assert len(data.pairs_train + data.pairs_heldout) == 12
    assert data.near_duplicates == 0


async def test_pairs_with_the_same_prompt_but_different_answers_are_kept(
    ws_store: DecisionStore,
) -> None:
    await record_corrections(ws_store, 3)
    name, op = FUNCTIONS[0]
    original = f"def {name}(a, b): return a{op}b\n"
    p = proposal("other", name, original, "def add(x, y):\n    return sum([x, y])\n")
    await ws_store.add_proposal(p)
    await ws_store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=p.id)
    await ws_store.record(
        Outcome.CORRECTED, actor=Actor.USER, proposal_id=p.id, after=typed(name, op)
    )
    data = await load_training_data(ws_store, TrainingSettings())
    assert len(data.pairs_train + data.pairs_heldout) == 4
    assert data.near_duplicates == 0 and data.exact_duplicates == 0


async def test_secrets_are_redacted_before_training(ws_store: DecisionStore) -> None:
    name, op = FUNCTIONS[0]
    original = f'KEY = "{AWS_KEY}"\ndef {name}(a, b): return a{op}b\n'
    p = proposal("secret", name, original, untyped(name, op))
    await ws_store.add_proposal(p)
    await ws_store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=p.id)
    await ws_store.record(
        Outcome.CORRECTED,
        actor=Actor.USER,
        proposal_id=p.id,
        after=f'KEY = "{AWS_KEY}"\n' + typed(name, op),
    )
    assert AWS_KEY in (await load_signals(ws_store)).dpo[0].prompt  # the log keeps the truth
    data = await load_training_data(ws_store, TrainingSettings())
    [pair] = data.pairs_train + data.pairs_heldout
    assert AWS_KEY not in pair.prompt + pair.chosen + pair.rejected
    assert "REDACTED" in pair.prompt and "REDACTED" in pair.chosen
    assert data.redactions >= 2


async def test_held_out_split_is_stable_and_never_takes_back_training_data(
    ws_store: DecisionStore,
) -> None:
    settings = TrainingSettings(held_out_fraction=0.25)
    await record_corrections(ws_store, 12)
    first = await load_training_data(ws_store, settings)
    again = await load_training_data(ws_store, settings)
    assert first.data_hash == again.data_hash  # same log, same data, same hash
    held_1 = {p.proposal_id for p in first.pairs_heldout}
    train_1 = {p.proposal_id for p in first.pairs_train}
    assert held_1 and train_1 and not held_1 & train_1
    # the hash rule alone: fixed by the id, whatever else is in the log
    assert {pid for pid in held_1 | train_1 if hash_unit(pid) < 0.25} <= held_1

    await record_corrections(ws_store, 12, prefix="n")  # more decisions arrive
    second = await load_training_data(ws_store, settings)
    held_2 = {p.proposal_id for p in second.pairs_heldout}
    assert not train_1 & held_2  # nothing an earlier adapter trained on is now held out
    assert second.data_hash != first.data_hash
    assert second.decision_range.head_seq > first.decision_range.head_seq
    assert second.decision_range.head_hash == (await ws_store.head())[1]


async def test_small_data_still_gets_a_judgeable_held_out_set(ws_store: DecisionStore) -> None:
    await record_labels(ws_store, 6)
    data = await load_training_data(ws_store, TrainingSettings(held_out_fraction=0.0))
    assert {k.label for k in data.labels_heldout} == {True, False}  # AUC needs both
    assert data.labels_train
    newest = sorted(k.seq for k in data.labels_train + data.labels_heldout)[-2:]
    assert sorted(k.seq for k in data.labels_heldout) == newest  # taken from the newest


async def test_too_little_data_is_explained(ws_store: DecisionStore) -> None:
    await record_labels(ws_store, 1)
    signals = await load_signals(ws_store)
    settings = TrainingSettings(batch_size=2)
    data = build_training_data(signals, settings, head=await ws_store.head())
    reason = data.trainable(settings)
    assert reason is not None and "not enough" in reason


def test_verifier_pairs_do_not_switch_training_to_dpo_and_drop_the_users_labels() -> None:
    from tether.training.dataset import LabelRow, PairRow, TrainingData
    from tether.training.models import DecisionRange

    def pair(i: int, source: str) -> PairRow:
        return PairRow(
            prompt=f"p{i}", chosen="good", rejected="bad", proposal_id=f"x{i}", seq=i, source=source
        )

    labels = [
        LabelRow(prompt=f"q{i}", completion="c", label=i % 2 == 0, proposal_id=f"y{i}", seq=i)
        for i in range(6)
    ]
    settings = TrainingSettings(min_pairs_for_dpo=4)

    def data(pairs: list[PairRow]) -> TrainingData:
        return TrainingData(
            pairs_train=pairs,
            pairs_heldout=[],
            labels_train=labels,
            labels_heldout=[],
            decision_range=DecisionRange(),
            data_hash="h",
        )

    tool_made = data([pair(i, "verifier") for i in range(8)])
    assert tool_made.method(settings) == "kto"  # the user's 6 verdicts are trained on
    assert len(tool_made.train_rows("kto")) == 6 + 2 * 8
    assert data([pair(i, "correction") for i in range(4)]).method(settings) == "dpo"
