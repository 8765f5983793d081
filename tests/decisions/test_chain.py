"""The hash chain holds, and each kind of tampering is caught and named."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tether.core.types import Actor, Outcome
from tether.decisions import DecisionStore, InvalidTransition, UnknownProposal, verify_file
from tether.decisions.chain import row_hash

from .helpers import make_proposal


async def _filled(path: Path, n: int = 10) -> None:
    store = await DecisionStore.open(path)
    for i in range(n):
        p = make_proposal(path=f"src/m{i}.py")
        await store.add_proposal(p)
        await store.record(
            Outcome.REJECTED if i % 3 else Outcome.ACCEPTED,
            actor=Actor.USER,
            proposal_id=p.id,
            reason="too noisy" if i % 3 else None,
        )
    await store.close()


@pytest.fixture
async def db(tmp_path: Path) -> Path:
    path = tmp_path / "tether.db"
    await _filled(path)
    return path


def _sql(path: Path, *statements: tuple[str, tuple]) -> None:
    conn = sqlite3.connect(path)
    with conn:
        for sql, args in statements:
            conn.execute(sql, args)
    conn.close()


async def test_intact_chain_verifies(db: Path) -> None:
    result = verify_file(db)
    assert result.ok and result.rows == 20
    assert "chain OK: 20 decisions" in result.summary()


async def test_edited_row_is_named(db: Path) -> None:
    _sql(db, ("UPDATE decisions SET body = replace(body, 'too noisy', 'fine') WHERE seq = 4", ()))
    result = verify_file(db)
    assert not result.ok
    assert (result.first_broken_seq, result.kind) == (4, "edited")


async def test_edited_and_rehashed_row_is_named(db: Path) -> None:
    conn = sqlite3.connect(db)
    body, prev = conn.execute("SELECT body, prev_hash FROM decisions WHERE seq = 6").fetchone()
    forged = body.replace("too noisy", "great")
    with conn:
        conn.execute(
            "UPDATE decisions SET body = ?, hash = ? WHERE seq = 6",
            (forged, row_hash(prev, forged)),
        )
    conn.close()
    result = verify_file(db)
    assert (result.first_broken_seq, result.kind) == (6, "edited")


async def test_deleted_row_is_named(db: Path) -> None:
    _sql(db, ("DELETE FROM decisions WHERE seq = 7", ()))
    result = verify_file(db)
    assert (result.first_broken_seq, result.kind, result.missing) == (7, "deleted", [7])


async def test_deleted_tail_is_named(db: Path) -> None:
    _sql(db, ("DELETE FROM decisions WHERE seq >= 19", ()))
    result = verify_file(db)
    assert (result.kind, result.first_broken_seq, result.missing) == ("truncated", 19, [19, 20])


async def test_inserted_row_is_named(db: Path) -> None:
    conn = sqlite3.connect(db)
    prev = conn.execute("SELECT hash FROM decisions WHERE seq = 4").fetchone()[0]
    body = '{"actor":"user","outcome":"accepted","ts":"2026-01-01T00:00:00+00:00"}'
    with conn:
        # Make room at seq 5 by shifting the tail up, then slip in a well-formed row.
        conn.execute("UPDATE decisions SET seq = seq + 1000 WHERE seq >= 5")
        conn.execute("UPDATE decisions SET seq = seq - 999 WHERE seq >= 1005")
        conn.execute(
            "INSERT INTO decisions(seq, body, prev_hash, hash) VALUES (5, ?, ?, ?)",
            (body, prev, row_hash(prev, body)),
        )
    conn.close()
    result = verify_file(db)
    assert (result.first_broken_seq, result.kind) == (5, "inserted")


async def test_appended_row_is_named(db: Path) -> None:
    conn = sqlite3.connect(db)
    prev = conn.execute("SELECT hash FROM decisions ORDER BY seq DESC LIMIT 1").fetchone()[0]
    body = '{"actor":"user","outcome":"accepted","ts":"2026-01-01T00:00:00+00:00"}'
    with conn:
        conn.execute(
            "INSERT INTO decisions(body, prev_hash, hash) VALUES (?, ?, ?)",
            (body, prev, row_hash(prev, body)),
        )
    conn.close()
    result = verify_file(db)
    assert (result.first_broken_seq, result.kind) == (21, "inserted")


async def test_reordered_rows_are_named(db: Path) -> None:
    _sql(
        db,
        ("UPDATE decisions SET seq = -1 WHERE seq = 9", ()),
        ("UPDATE decisions SET seq = 9 WHERE seq = 10", ()),
        ("UPDATE decisions SET seq = 10 WHERE seq = -1", ()),
    )
    result = verify_file(db)
    assert (result.first_broken_seq, result.kind) == (9, "reordered")


async def test_query_columns_cannot_drift_from_the_hashed_body(db: Path) -> None:
    conn = sqlite3.connect(db)
    with pytest.raises(sqlite3.OperationalError):
        conn.execute("UPDATE decisions SET reason = 'x' WHERE seq = 2")
    conn.close()


async def test_transitions_are_checked(store: DecisionStore) -> None:
    p = make_proposal()
    await store.add_proposal(p)
    await store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=p.id)
    with pytest.raises(InvalidTransition):
        await store.record(Outcome.REJECTED, actor=Actor.USER, proposal_id=p.id)
    with pytest.raises(UnknownProposal):
        await store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id="nope")
    corrected = await store.record(
        Outcome.CORRECTED, actor=Actor.USER, proposal_id=p.id, after="x = 1\n"
    )
    assert corrected.class_key == p.class_key and corrected.path == p.path
    assert (await store.get_proposal(p.id)).state == "corrected"
    assert (await store.verify()).ok


async def test_a_correction_back_to_the_original_is_marked_reverted(store: DecisionStore) -> None:
    undone, fixed = make_proposal(path="src/a.py"), make_proposal(path="src/b.py")
    for p in (undone, fixed):
        await store.add_proposal(p)
        await store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=p.id)
    reverted = await store.record(
        Outcome.CORRECTED,
        actor=Actor.USER,
        proposal_id=undone.id,
        after=undone.original,
        data={"window_seconds": 30},
    )
    assert reverted.data == {"window_seconds": 30, "reverted": True}
    edited = await store.record(
        Outcome.CORRECTED, actor=Actor.USER, proposal_id=fixed.id, after="x = 1\n"
    )
    assert edited.data == {}
    assert (await store.verify()).ok
