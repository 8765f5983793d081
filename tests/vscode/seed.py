"""Earlier decisions for the VS Code end-to-end workspace, so "Train now" has data.

Training needs a few accepted and rejected examples (KTO with both labels, some held out
to judge the adapter); clicking through that many suggestions in the browser would take
minutes, so the log starts with six decided proposals written through the real store.
"""

from __future__ import annotations

from pathlib import Path

from tether.core.response_format import render_completion
from tether.core.types import Actor, Outcome, Proposal, Range
from tether.decisions import DecisionStore

#: (function source, its improved form, accepted?)
EARLIER: list[tuple[str, str, bool]] = [
    (
        'def greet(name):\n    return "Hello, %s" % name\n',
        'def greet(name):\n    return f"Hello, {name}"\n',
        True,
    ),
    (
        "def is_empty(items):\n    return items == None or len(items) == 0\n",
        "def is_empty(items):\n    return items is None or len(items) == 0\n",
        True,
    ),
    (
        'def path_of(folder, name):\n    return os.path.join(folder, name + ".json")\n',
        'def path_of(folder, name):\n    return str(Path(folder) / f"{name}.json")\n',
        True,
    ),
    (
        "def count(values):\n    n = 0\n    for v in values:\n        n = n + 1\n    return n\n",
        "def count(values):\n    return sum(1 for _ in values)  # noqa\n",
        False,
    ),
    (
        "def first(items):\n    return items[0]\n",
        "def first(items):\n    try:\n        return items[0]\n    except IndexError:\n"
        "        return None\n",
        False,
    ),
    (
        'def label(code):\n    return "item-" + str(code)\n',
        'def label(code):\n    return "item-{}".format(code)\n',
        False,
    ),
]


def _prompt(source: str) -> str:
    return (
        "<|im_start|>system\nYou improve Python code without changing what it does."
        "<|im_end|>\n<|im_start|>user\nImprove this code:\n```python\n"
        f"{source}```<|im_end|>\n<|im_start|>assistant\n"
    )


async def seed_decisions(db: Path, workspace: Path) -> list[str]:
    """Write the earlier proposals and the user's verdicts; returns their proposal ids."""
    db.parent.mkdir(parents=True, exist_ok=True)
    store = await DecisionStore.open(db)
    ids: list[str] = []
    try:
        for i, (source, improved, accepted) in enumerate(EARLIER):
            lines = source.count("\n")
            proposal = Proposal(
                uri=(workspace / "src" / "legacy.py").as_uri(),
                path="src/legacy.py",
                version=1,
                range=Range.of(10 * i, 0, 10 * i + lines, 0),
                task="improve",
                class_key="improve|python|src|s",
                rationale="Make it more idiomatic.",
                original=source,
                proposed=improved,
                prompt=_prompt(source),
                completion=render_completion(improved, "python", "Make it more idiomatic."),
                model="replay:earlier.jsonl",
            )
            await store.add_proposal(proposal)
            if accepted:
                await store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=proposal.id)
            else:
                await store.record(
                    Outcome.REJECTED,
                    actor=Actor.USER,
                    proposal_id=proposal.id,
                    reason="not an improvement",
                )
            ids.append(proposal.id)
    finally:
        await store.close()
    return ids
