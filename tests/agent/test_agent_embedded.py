"""The embedded provider: lazy load, generation off the loop, LoRA adapters swapped without
a restart, cancellation and streaming — on a tiny model built from a config."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from tether_tiny_models import build_tiny_model, save_lora_adapter

from tether.agent.providers import GenerationCancelled
from tether.agent.providers.embedded import EmbeddedProvider
from tether.training.scoring import sequence_logps

MESSAGES = [
    {"role": "system", "content": "You improve Python code."},
    {"role": "user", "content": "```python\nif x == None:\n    pass\n```"},
]


class Loader:
    """Counts loads, so a test can tell an adapter swap from a reload of the base model."""

    def __init__(self, model: Any, tokenizer: Any) -> None:
        self.model, self.tokenizer, self.calls = model, tokenizer, 0

    def __call__(self) -> tuple[Any, Any]:
        self.calls += 1
        return self.model, self.tokenizer


async def test_generates_with_and_without_adapters_and_swaps_without_reload(
    tiny_model: Any, smol_tokenizer: Any, tmp_path: Path
) -> None:
    v1 = save_lora_adapter(tiny_model, tmp_path / "v1", seed=1)
    v2 = save_lora_adapter(tiny_model, tmp_path / "v2", seed=2)
    active: list[tuple[str, Path] | None] = [None]
    loader = Loader(tiny_model, smol_tokenizer)
    provider = EmbeddedProvider("tiny", loader=loader, adapters=lambda: active[0])
    assert loader.calls == 0  # lazy: nothing loaded until the first request

    base = await provider.generate(MESSAGES, max_new_tokens=12)
    assert base.adapter_version is None and len(base.completions) == 1
    assert base.prompt == smol_tokenizer.apply_chat_template(
        MESSAGES, tokenize=False, add_generation_prompt=True
    )
    assert base.finish_reasons[0] in {"stop", "length"}
    again = await provider.generate(MESSAGES, max_new_tokens=12)
    assert again.completions == base.completions  # one candidate is greedy: reproducible
    answers = ["if x is None:\n    pass", "if x == None:\n    pass"]
    assert await provider.rewards(MESSAGES, answers) == []  # no adapter: nothing to rank by

    active[0] = ("v1", v1)
    with_v1 = await provider.generate(MESSAGES, max_new_tokens=12)
    rewards_v1 = await provider.rewards(MESSAGES, answers)
    assert with_v1.adapter_version == "v1"
    # the implicit reward is beta * (log p_v1 - log p_base), scored as training and the gate do
    prompt = provider.render_prompt(MESSAGES)
    model = provider._model  # the PeftModel the provider built around the base
    tuned = sequence_logps(model, smol_tokenizer, [prompt] * 2, answers)
    with model.disable_adapter():
        base_lp = sequence_logps(model, smol_tokenizer, [prompt] * 2, answers)
    expected = [0.1 * (t - b) for t, b in zip(tuned, base_lp, strict=True)]
    assert rewards_v1 == pytest.approx(expected, abs=1e-5)
    assert any(abs(r) > 1e-4 for r in rewards_v1)  # the adapter moved the log-probs

    active[0] = ("v2", v2)
    rewards_v2 = await provider.rewards(MESSAGES, answers)
    assert provider.adapter_version == "v2"
    assert rewards_v2 != pytest.approx(rewards_v1, abs=1e-4)

    active[0] = None  # back to the base model (rollback), without unloading anything
    assert await provider.rewards(MESSAGES, answers) == []
    assert (await provider.generate(MESSAGES, max_new_tokens=12)).completions == base.completions
    assert loader.calls == 1  # every swap reused the one base model


async def test_adapter_outputs_differ_from_the_base(smol_tokenizer: Any, tmp_path: Path) -> None:
    """Greedy text differs too (a strong adapter on a tiny model moves the argmax)."""
    model = build_tiny_model(smol_tokenizer, seed=3)
    adapter = save_lora_adapter(model, tmp_path / "v1", seed=4)
    ref: list[tuple[str, Path] | None] = [None]
    provider = EmbeddedProvider(
        "tiny", loader=Loader(model, smol_tokenizer), adapters=lambda: ref[0]
    )
    plain = await provider.generate(MESSAGES, max_new_tokens=16)
    ref[0] = ("v1", adapter)
    tuned = await provider.generate(MESSAGES, max_new_tokens=16)
    assert tuned.completions != plain.completions


async def test_a_broken_adapter_falls_back_to_the_base_model(
    tiny_model: Any, smol_tokenizer: Any, tmp_path: Path
) -> None:
    (tmp_path / "v9").mkdir()
    provider = EmbeddedProvider(
        "tiny", loader=Loader(tiny_model, smol_tokenizer), adapters=lambda: ("v9", tmp_path / "v9")
    )
    gen = await provider.generate(MESSAGES, max_new_tokens=4)
    assert gen.adapter_version is None  # recorded honestly: no adapter was used


async def test_several_candidates_are_sampled(tiny_model: Any, smol_tokenizer: Any) -> None:
    provider = EmbeddedProvider("tiny", loader=Loader(tiny_model, smol_tokenizer))
    gen = await provider.generate(MESSAGES, n=3, max_new_tokens=8, temperature=1.0)
    assert len(gen.completions) == 3 and len(gen.finish_reasons) == 3


async def test_cancel_stops_generation_and_the_loop_stays_free(
    tiny_model: Any, smol_tokenizer: Any
) -> None:
    provider = EmbeddedProvider("tiny", loader=Loader(tiny_model, smol_tokenizer))
    await provider.generate(MESSAGES, max_new_tokens=1)  # load first
    cancel = asyncio.Event()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            if ticks == 3:
                cancel.set()
            await asyncio.sleep(0)

    t = asyncio.create_task(ticker())
    try:
        with pytest.raises(GenerationCancelled):
            await provider.generate(MESSAGES, max_new_tokens=4000, cancel=cancel)
    finally:
        t.cancel()
    assert ticks >= 3  # the event loop ran while the model generated


@pytest.mark.slow
async def test_real_smollm2_answers_a_request_through_the_agent(
    workspace: Path, smol_dir: Path, smol_tokenizer: Any
) -> None:
    """The embedded default, end to end: the real model's answer becomes a checked proposal
    or a recorded reason; never a broken edit."""
    import ast

    from tether.agent import Agent, AgentRequest, load_spec
    from tether.config import Settings
    from tether.core.diff import apply_hunks
    from tether.core.text import replace_range
    from tether.core.types import Range

    settings = Settings(model="embedded:smollm2", context_lines=3, max_new_tokens=48, candidates=1)
    spec = load_spec(workspace)  # ruff off: ruff's own fix would answer before the model
    spec = spec.model_copy(update={"tools": spec.tools.model_copy(update={"ruff": False})})
    agent = Agent(settings, spec, None, workspace)
    text = (workspace / "src" / "settings.py").read_text()
    line = text.split("\n").index("    if value == None:")
    req = AgentRequest(
        uri="file:///w/src/settings.py",
        path="src/settings.py",
        text=text,
        range=Range.of(line, 0, line + 1, 16),
        task="improve",
    )
    result = await agent.propose(req)
    prompt = result.prompts["student"]
    assert prompt.startswith("<|im_start|>system\n")
    assert prompt.endswith("<|im_start|>assistant\n")
    assert "    if value == None:\n        return 5" in prompt
    assert result.raw["student"][0].strip()  # the model said something
    if result.proposals:
        [p] = result.proposals
        assert (p.model, p.role, p.prompt, p.completion) == (
            "embedded:smollm2",
            "student",
            prompt,
            result.raw["student"][0],
        )
        new_text = apply_hunks(p.original, p.hunks)
        assert new_text == p.proposed != p.original
        ast.parse(replace_range(text, p.range, new_text))  # never a broken edit
    else:
        assert result.failures and result.failures[0].startswith("student: ")
