"""The store's parts (proposals, pins, adapters, sealed state, the log) share one
connection and one write lock: writes through different parts at once never meet inside
one transaction, and every row they log is one chain."""

from __future__ import annotations

import asyncio
from itertools import pairwise
from pathlib import Path

from tether.core.types import Actor, Outcome, utcnow
from tether.decisions import AdapterRow, DecisionContent, DecisionStore, MemoryRow

from .helpers import make_proposal


async def test_writes_through_every_part_at_once_make_one_chain(tmp_path: Path) -> None:
    store = await DecisionStore.open(tmp_path / "tether.db")
    try:
        proposals = [make_proposal(path=f"src/m{i}.py") for i in range(4)]
        now = utcnow()
        await asyncio.gather(
            *(store.add_proposal(p) for p in proposals),
            store.set_pin("improve|python|src|small", "always_ask"),
            store.append(
                DecisionContent(ts=now, outcome=Outcome.ADAPTER_REFUSED, actor=Actor.SYSTEM)
            ),
            store.put_adapter(AdapterRow(version="v1", created_at=now, status="refused", path="a")),
            store.put_memory(MemoryRow(id="m1", kind="exemplar", created_at=now, updated_at=now)),
            store.save_profile_snapshot(0, {"classes": {}}),
        )
        await asyncio.gather(
            *(store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=p.id) for p in proposals)
        )
        rows = await store.decisions()
        assert len(rows) == 4 + 1 + 1 + 4  # proposed, pinned, refused, accepted
        assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
        assert all(r.prev_hash == prev.hash for prev, r in pairwise(rows))
        assert {p.state.value for p in await store.proposals()} == {"accepted"}
        assert await store.pins() == {"improve|python|src|small": "always_ask"}
        assert [m.id for m in await store.memory()] == ["m1"]
        assert (await store.verify()).ok
    finally:
        await store.close()
