"""Memory is a function of the decision log: rebuilt from it, it is what learning one
decision at a time made; an update that failed is made from the log later."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tether.cli.main import main as cli
from tether.core.diff import make_hunks
from tether.core.types import Actor, Outcome, Proposal, Range
from tether.decisions import DecisionStore
from tether.memory import Memory


async def propose(store: DecisionStore, original: str, proposed: str) -> Proposal:
    p = Proposal(
        uri="file:///w/src/a.py",
        path="src/a.py",
        range=Range.of(3, 0, 4, 0),
        task="improve",
        class_key="improve:python:code:1-3",
        original=original,
        proposed=proposed,
        hunks=make_hunks(original, proposed, Range.of(3, 0, 3, 0).start),
    )
    await store.add_proposal(p)
    return p


def _state(rows: Sequence[Any]) -> list[dict[str, Any]]:
    return sorted((r.model_dump(mode="json") for r in rows), key=lambda r: r["id"])


async def _history(store: DecisionStore, memory: Memory) -> None:
    """Accepts, reasoned rejections (rules) and a correction, learnt as they happen."""
    verdicts: list[tuple[str, str, Outcome, dict[str, Any]]] = [
        ("x = 1\n", "x: int = 1\n", Outcome.ACCEPTED, {}),
        ("y = 2\n", "y = 2  # two\n", Outcome.REJECTED, {"reason": "no comments that repeat code"}),
        ("z = 3\n", "z = 3  # three\n", Outcome.REJECTED, {"reason": "no comments repeating code"}),
        ("w = 4\n", "w: int = 4\n", Outcome.ACCEPTED, {}),
    ]
    for original, proposed, outcome, kw in verdicts:
        p = await propose(store, original, proposed)
        await store.record(outcome, actor=Actor.USER, proposal_id=p.id, **kw)
        assert await memory.catch_up() == 1
    fixed = await propose(store, "v = 5\n", "v = 5.0\n")
    await store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=fixed.id)
    await store.record(Outcome.CORRECTED, actor=Actor.USER, proposal_id=fixed.id, after="v = 5\n")
    assert await memory.catch_up() == 2
    assert await memory.catch_up() == 0  # nothing new: nothing learnt twice


async def test_rebuild_gives_what_learning_one_by_one_gave(store: DecisionStore) -> None:
    memory = Memory(store)
    await _history(store, memory)
    learnt = _state(await store.memory(active_only=False))
    kinds = {r["kind"] for r in learnt}
    assert kinds == {"exemplar", "reflection", "insight"}
    assert await memory.rebuild() == 6
    assert _state(await store.memory(active_only=False)) == learnt


async def test_an_update_that_failed_is_made_at_the_next_decision(store: DecisionStore) -> None:
    async def interrupted(messages: list[dict[str, str]], max_new_tokens: int) -> str:
        raise asyncio.CancelledError  # e.g. the server shut down mid-update

    reference = Memory(store)
    p = await propose(store, "y = 2\n", "y = 2  # two\n")
    await store.record(Outcome.REJECTED, actor=Actor.USER, proposal_id=p.id, reason="no echo")
    with pytest.raises(asyncio.CancelledError):
        await Memory(store, generate=interrupted).catch_up()
    assert await reference.cursor() == 0  # the row is not marked learnt
    q = await propose(store, "x = 1\n", "x: int = 1\n")
    await store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=q.id)
    assert await reference.catch_up() == 2  # the failed row, then the new one
    ids = {r.id for r in await store.memory(kind="exemplar")}
    assert ids == {f"ex-{p.id}", f"ex-{q.id}"}
    assert [r.body["proposal_id"] for r in await store.memory(kind="reflection")] == [p.id]


async def test_tether_memory_rebuild(
    store: DecisionStore, capsys: pytest.CaptureFixture[str]
) -> None:
    memory = Memory(store)
    await _history(store, memory)
    learnt = _state(await store.memory(active_only=False))
    path: Path = store.path
    await store.close()
    assert await asyncio.to_thread(cli, ["memory", "--db", str(path), "--rebuild", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["action"] == "rebuilt" and out["decisions"] == 6
    again = await DecisionStore.open(path, create=False)
    try:
        assert _state(await again.memory(active_only=False)) == learnt
    finally:
        await again.close()
