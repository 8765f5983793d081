"""Reranking: several student candidates ordered by the active adapter's implicit reward.

The candidates come from the replay provider (a tiny model cannot write a parseable edit);
the rewards come from a real model with a real LoRA adapter, through the embedded provider.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from tether_tiny_models import save_lora_adapter

from tether.agent import Agent, AgentRequest, AgentSpec, load_spec
from tether.agent.prompting import Message
from tether.agent.providers.embedded import EmbeddedProvider
from tether.agent.providers.replay import ReplayProvider
from tether.config import Settings
from tether.core.response_format import render_completion
from tether.core.types import Range


def model_spec(ws: Path) -> AgentSpec:
    """The workspace's spec with ruff off: these tests are about the model's answers, which
    ruff's own fixes would otherwise replace (tests/agent/test_agent_tools.py has ruff on)."""
    spec = load_spec(ws)
    return spec.model_copy(update={"tools": spec.tools.model_copy(update={"ruff": False})})


ANSWERS = [
    "    if value is None:\n        return 5",
    "    if value is None:\n        return 5  # default",
    "    if not value:\n        return 5",
]


class ScoredReplay(ReplayProvider):
    """Recorded candidates, scored by a real embedded model and its adapter."""

    def __init__(self, path: Path, scorer: EmbeddedProvider) -> None:
        super().__init__(path)
        self.scorer = scorer
        self.messages: Sequence[Message] = []

    async def rewards(self, messages: Sequence[Message], completions: Sequence[str]) -> list[float]:
        self.messages = messages
        return await self.scorer.rewards(messages, completions)


def _request(ws: Path) -> AgentRequest:
    text = (ws / "src/settings.py").read_text()
    i = next(n for n, row in enumerate(text.split("\n")) if "if value == None" in row)
    return AgentRequest(
        uri=(ws / "src/settings.py").as_uri(),
        path="src/settings.py",
        text=text,
        version=1,
        range=Range.of(i, 0, i + 2, 0),
        task="improve",
    )


def _completions() -> list[str]:
    return [render_completion(a, "python", f"Option {i}.") for i, a in enumerate(ANSWERS)]


def _agent(ws: Path, tmp_path: Path, scorer: EmbeddedProvider, **settings: Any) -> Agent:
    replay = tmp_path / "replay.jsonl"
    replay.write_text(json.dumps({"completions": _completions()}) + "\n")
    s = Settings(model=f"replay:{replay}", candidates=3, **settings)
    return Agent(s, model_spec(ws), None, ws, student=ScoredReplay(replay, scorer))


@pytest.fixture
def scorer(tiny_model: Any, smol_tokenizer: Any, tmp_path: Path) -> tuple[EmbeddedProvider, list]:
    adapter = save_lora_adapter(tiny_model, tmp_path / "v1", seed=5)
    active: list[tuple[str, Path] | None] = [("v1", adapter)]
    provider = EmbeddedProvider(
        "tiny", loader=lambda: (tiny_model, smol_tokenizer), adapters=lambda: active[0]
    )
    return provider, active


async def test_candidates_are_ordered_by_the_adapters_implicit_reward(
    workspace: Path, tmp_path: Path, scorer: tuple[EmbeddedProvider, list]
) -> None:
    provider, _ = scorer
    agent = _agent(workspace, tmp_path, provider)
    result = await agent.propose(_request(workspace))
    (proposal,) = result.proposals
    scores = [c.score for c in proposal.candidates]
    assert len(scores) == 3 and all(s is not None for s in scores)
    assert scores == sorted(scores, reverse=True)  # best first
    assert proposal.proposed == proposal.candidates[0].text
    assert proposal.completion == proposal.candidates[0].completion
    # the recorded scores are the adapter's rewards for exactly those completions
    assert isinstance(agent.student, ScoredReplay)
    again = await provider.rewards(
        agent.student.messages, [c.completion for c in proposal.candidates]
    )
    assert again == pytest.approx(scores, abs=1e-6)
    assert len(set(scores)) == 3  # the adapter tells them apart, so the order is meaningful
    replayed = await provider.rewards(agent.student.messages, _completions())
    assert replayed != sorted(replayed, reverse=True)  # so the agent's reordering is what sorted


async def test_without_an_adapter_or_with_rerank_off_the_models_order_stands(
    workspace: Path, tmp_path: Path, scorer: tuple[EmbeddedProvider, list]
) -> None:
    provider, active = scorer
    off = await _agent(workspace, tmp_path, provider, rerank=False).propose(_request(workspace))
    texts = [c.text.strip("\n") for c in off.proposals[0].candidates]
    assert texts == [a.strip("\n") for a in ANSWERS]
    assert all(c.score is None for c in off.proposals[0].candidates)

    active[0] = None  # no promoted adapter yet: nothing to rank by
    plain = await _agent(workspace, tmp_path, provider).propose(_request(workspace))
    assert [c.text for c in plain.proposals[0].candidates] == [
        c.text for c in off.proposals[0].candidates
    ]
    assert all(c.score is None for c in plain.proposals[0].candidates)
