"""Edits outside the chain never change what the policy reads, and keys and checkpoints
are kept the way the issue asks (key file 0600, checkpoints at shutdown and every N)."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from tether.config import PolicySettings
from tether.core.types import Actor, Outcome, ProposalState, utcnow
from tether.decisions import DecisionStore, MemoryRow, StoreError, verify_file
from tether.decisions import checkpoints as cps
from tether.decisions.keys import key_path
from tether.profile import ProfileStore

from .helpers import make_proposal


async def _store(path: Path) -> tuple[str, str]:
    """Two proposals (one accepted, one pending), a pin, a memory item, a snapshot."""
    store = await DecisionStore.open(path, checkpoint_every=3)
    decided, pending = make_proposal(path="src/a.py"), make_proposal(path="src/b.py")
    await store.add_proposal(decided)
    await store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=decided.id)
    await store.add_proposal(pending)
    await store.set_pin("improve|python|src|small", "always_ask")
    now = utcnow()
    await store.put_memory(
        MemoryRow(id="r1", kind="reflection", created_at=now, updated_at=now, body={"t": "x"})
    )
    await store.save_profile_snapshot(4, {"anything": 1})
    await store.close()
    return decided.id, pending.id


def _sql(path: Path, sql: str, args: tuple = ()) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(sql, args)


async def test_key_file_is_private_and_checkpoints_are_written(tmp_path: Path) -> None:
    db = tmp_path / "tether.db"
    await _store(db)
    assert stat.S_IMODE(key_path(db).stat().st_mode) == 0o600
    written = cps.read(cps.checkpoint_path(db))
    # every 3 rows (row 3) and at shutdown (row 4, the head)
    assert [(c.seq, c.reason) for c in written] == [(3, "interval"), (4, "shutdown")]
    assert [c.n for c in written] == [1, 2] and written[1].prev == written[0].digest()
    assert all(c.signed_ok() for c in written)


async def test_outside_edits_do_not_steer_what_the_store_returns(tmp_path: Path) -> None:
    db = tmp_path / "tether.db"
    decided, pending = await _store(db)
    _sql(db, "UPDATE meta SET value = '1' WHERE key = 'head_seq'")
    _sql(db, "UPDATE proposals SET state = 'pending' WHERE id = ?", (decided,))
    _sql(db, "UPDATE proposals SET state = 'rejected' WHERE id = ?", (pending,))
    _sql(db, "INSERT INTO pins(class_key, mode, created_at) VALUES ('k', 'never_auto', 'now')")
    _sql(db, "DELETE FROM pins WHERE class_key = 'improve|python|src|small'")
    _sql(db, "UPDATE profile_snapshots SET body = '{\"anything\": 2}'")
    _sql(db, 'UPDATE memory_items SET body = \'{"t": "forged"}\'')
    async with await DecisionStore.open(db) as store:
        assert await store.head() == (4, (await store.decisions())[-1].hash)
        assert (await store.get_proposal(decided)).state == ProposalState.ACCEPTED
        assert [p.id for p in await store.proposals(state=ProposalState.PENDING)] == []
        assert await store.pins() == {"improve|python|src|small": "always_ask"}
        assert await store.latest_profile_snapshot() is None  # edited: replay instead
        assert await store.memory() == []  # edited: not used
        profile = await ProfileStore.load(store, PolicySettings())
        assert profile.head_seq == 4  # the whole log replayed, not the first row
    result = verify_file(db)
    kinds = [p.kind for p in result.problems]
    assert result.kind == "head" and kinds.count("state") >= 5, result.summary()


async def test_a_missing_key_is_refused_with_what_to_do(tmp_path: Path) -> None:
    db = tmp_path / "tether.db"
    await _store(db)
    key_path(db).unlink()
    with pytest.raises(StoreError, match="sealed with a key that is missing"):
        await DecisionStore.open(db)
    result = verify_file(db)
    assert not result.ok and "key" in (result.detail or "") and "is missing" in result.detail


async def test_several_writers_keep_the_checkpoint_file_whole(tmp_path: Path) -> None:
    db = tmp_path / "tether.db"
    a = await DecisionStore.open(db, checkpoint_every=2)
    b = await DecisionStore.open(db, checkpoint_every=2)
    for i in range(6):
        for store in (a, b):
            await store.set_pin(f"class{i}", "always_ask")
    await a.close()
    await b.close()
    written = cps.read(cps.checkpoint_path(db))
    assert [c.n for c in written] == list(range(1, len(written) + 1))
    result = verify_file(db)
    assert result.ok and result.anchored_seq == 12, result.summary()
