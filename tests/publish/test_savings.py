"""What the local student saved, priced by litellm's (local) cost table."""

from __future__ import annotations

import pytest

from tether.core.types import Proposal, Range
from tether.decisions import DecisionStore
from tether.publish.savings import savings

TEACHER = "litellm:anthropic/claude-sonnet-4-20250514"


def _proposal(pid: str, role: str) -> Proposal:
    return Proposal(
        id=pid,
        uri=f"file:///ws/{pid}.py",
        path=f"{pid}.py",
        range=Range.of(0, 0, 1, 0),
        task="improve",
        class_key="improve:python:code:1-3",
        original="x=1\n",
        proposed="x = 1\n",
        prompt="<|im_start|>user\nTidy x=1 please<|im_end|>\n<|im_start|>assistant\n",
        completion="```python\nx = 1\n```",
        role=role,
    )


async def test_savings_price_the_students_answers_at_the_teachers_rate(
    store: DecisionStore,
) -> None:
    for pid, role in (("s1", "student"), ("s2", "student"), ("t1", "teacher")):
        await store.add_proposal(_proposal(pid, role))
    assert (await savings(store, None)).usd is None

    saved = await savings(store, TEACHER)
    import litellm

    model = TEACHER.removeprefix("litellm:")
    one_prompt = litellm.token_counter(model=model, text=_proposal("x", "student").prompt)
    one_completion = litellm.token_counter(model=model, text=_proposal("x", "student").completion)
    price = litellm.model_cost["claude-sonnet-4-20250514"]
    assert saved.proposals == 2  # the teacher's own answer saved nothing
    assert (saved.prompt_tokens, saved.completion_tokens) == (2 * one_prompt, 2 * one_completion)
    expected = (
        saved.prompt_tokens * price["input_cost_per_token"]
        + saved.completion_tokens * price["output_cost_per_token"]
    )
    assert saved.usd == pytest.approx(expected) and saved.usd > 0
    assert "answered 2 proposals" in saved.summary()

    unknown = await savings(store, "litellm:nobody/no-such-model")
    assert unknown.usd is None and "no price" in unknown.summary()
