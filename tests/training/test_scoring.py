"""Log-probs, implicit rewards and reranking on the tiny real model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tether.training import AdapterModel, load_adapter_model, rerank
from tether.training.scoring import adapter_logps, sequence_logps

from .helpers import chat_prompt, typed, untyped


def _naive_logp(model, tokenizer, prompt: str, completion: str) -> float:  # type: ignore[no-untyped-def]
    """One sequence, full logits, no padding: the reference the batched code must match."""
    import torch

    ids = tokenizer(prompt + completion + tokenizer.eos_token, add_special_tokens=False)
    ids = ids["input_ids"]
    start = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0].float()
    logps = torch.log_softmax(logits[:-1], -1).gather(-1, torch.tensor(ids[1:]).unsqueeze(-1))
    return float(logps[start - 1 :].sum())


def test_batched_log_probs_match_one_by_one(tiny_model: Path) -> None:
    am = load_adapter_model(None, base_model=tiny_model, device="cpu")
    prompts = [chat_prompt("add", "x"), chat_prompt("a_much_longer_function_name", "y = 1\n")]
    completions = ["```python\nshort\n```", typed("f", "+") * 3]
    batched = sequence_logps(am.model, am.tokenizer, prompts * 2, completions + completions[::-1])
    for (p, c), got in zip(
        zip(prompts * 2, completions + completions[::-1], strict=True), batched, strict=True
    ):
        assert got == pytest.approx(_naive_logp(am.model, am.tokenizer, p, c), abs=1e-3)


def test_rerank_uses_the_adapter_and_is_neutral_without_one(
    tiny_model: Path, tiny_adapter: Path
) -> None:
    prompt = chat_prompt("add", "def add(a, b): return a+b\n")
    completions = [typed("add", "+"), untyped("add", "+"), "no code at all"]
    plain = load_adapter_model(None, base_model=tiny_model, device="cpu")
    assert rerank(prompt, completions, plain) == [0.0, 0.0, 0.0]
    assert rerank(prompt, completions, None) == [0.0, 0.0, 0.0]

    am = load_adapter_model(tiny_adapter, base_model=tiny_model, device="cpu", version="v7")
    assert isinstance(am, AdapterModel) and am.adapter == "v7"
    scores = rerank(prompt, completions, am)
    tuned = adapter_logps(am, [prompt] * 3, completions, adapter="v7")
    base = adapter_logps(am, [prompt] * 3, completions, adapter=None)
    assert scores == pytest.approx([am.beta * (t - b) for t, b in zip(tuned, base, strict=True)])
    assert len(set(scores)) == 3 and all(s != 0 for s in scores)


def test_evaluate_scores_base_active_and_candidate(tiny_model: Path, tiny_adapter: Path) -> None:
    from tether.training.evaluate import evaluate

    am = load_adapter_model(tiny_adapter, base_model=tiny_model, device="cpu", version="cand")
    am.model.load_adapter(str(tiny_adapter), adapter_name="act")  # same weights as cand
    prompt = chat_prompt("add", "def add(a, b): return a+b\n")
    pairs = [{"prompt": prompt, "chosen": typed("add", "+"), "rejected": untyped("add", "+")}]
    labels = [
        {"prompt": prompt, "completion": typed("add", "+"), "label": True},
        {"prompt": prompt, "completion": untyped("add", "+"), "label": False},
        {"prompt": prompt, "completion": "nothing", "label": False},
    ]
    report = evaluate(am, pairs, labels, candidate="cand", active="act", beta=0.1, max_length=256)
    assert report.base.preference_accuracy == 0.5 and report.base.auc == 0.5
    assert report.base.pairs_margin == 0.0 and report.base.labels_margin == 0.0
    assert report.candidate.pairs == 1 and report.candidate.labels == 3
    assert report.candidate.auc is not None and report.candidate.labels_margin is not None
    assert report.candidate.preference_accuracy in (0.0, 1.0)  # a random adapter picks a side
    assert report.active == report.candidate  # same weights, same numbers


def test_long_prompts_are_cut_from_the_left_to_fit(tiny_model: Path) -> None:
    from transformers import AutoTokenizer

    from tether.training.trainer import fit_rows

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    prompt = chat_prompt("add", "x = 1\n" * 400)  # far longer than 128 tokens
    row = {"prompt": prompt, "chosen": typed("add", "+"), "rejected": untyped("add", "+")}
    [fitted] = fit_rows([row], tokenizer, 128)
    n = len(tokenizer(fitted["prompt"] + fitted["chosen"], add_special_tokens=False)["input_ids"])
    assert n <= 128
    assert fitted["prompt"].endswith("<|im_start|>assistant\n") and prompt.endswith(
        fitted["prompt"]
    )
    assert fitted["chosen"] == row["chosen"]
    short = {"prompt": "hi", "completion": "there", "label": True}
    assert fit_rows([short], tokenizer, 128) == [short]
