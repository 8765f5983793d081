"""What the local student saved: for each proposal the student answered while a teacher
was configured, what the teacher would have cost for the same prompt and answer, priced
by litellm's own cost table (its local copy: nothing is fetched) and its token counter.
"""

from __future__ import annotations

import asyncio
import os

from pydantic import BaseModel

from tether.decisions.store import DecisionStore

#: litellm fetches its price list from the internet unless told to use the bundled copy.
_LOCAL_PRICES = "LITELLM_LOCAL_MODEL_COST_MAP"


class Savings(BaseModel):
    teacher: str | None
    proposals: int = 0  # answered by the student instead of the teacher
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usd: float | None = None  # None: the teacher has no price in litellm's table
    note: str = ""

    def summary(self) -> str:
        if self.teacher is None:
            return "savings: no teacher is configured, so the student replaced nobody"
        if self.usd is None:
            return f"savings: {self.note}"
        return (
            f"savings: the local student answered {self.proposals} "
            f"proposal{'' if self.proposals == 1 else 's'} instead of "
            f"{self.teacher}: {self.prompt_tokens:,} prompt + {self.completion_tokens:,} "
            f"completion tokens, ${self.usd:.4f} at the teacher's price"
        )


async def savings(store: DecisionStore, teacher: str | None, *, limit: int = 100_000) -> Savings:
    """The store is read here; counting and pricing run in a worker thread, so a language
    server asked for the profile keeps answering while litellm counts."""
    if not teacher:
        return Savings(teacher=None)
    texts = [
        (p.prompt, p.completion)
        for p in await store.proposals(limit=limit)
        if p.role == "student" and p.prompt
    ]
    model = teacher.partition(":")[2] if teacher.startswith("litellm:") else teacher
    return await asyncio.to_thread(_price, model, texts)


def _price(model: str, texts: list[tuple[str, str | None]]) -> Savings:
    os.environ.setdefault(_LOCAL_PRICES, "True")
    import litellm

    out = Savings(teacher=model, proposals=len(texts))
    for prompt, completion in texts:
        out.prompt_tokens += litellm.token_counter(model=model, text=prompt)
        out.completion_tokens += litellm.token_counter(model=model, text=completion or "")
    try:
        prompt_usd, completion_usd = litellm.cost_per_token(
            model=model,
            prompt_tokens=out.prompt_tokens,
            completion_tokens=out.completion_tokens,
        )
    except Exception:  # litellm raises a bare Exception for a model it has no price for
        out.note = f"litellm's cost table has no price for {model!r}"
        return out
    out.usd = float(prompt_usd) + float(completion_usd)
    return out
