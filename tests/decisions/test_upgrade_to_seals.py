"""A store written before seals and checkpoints is upgraded in place: its rows are sealed,
a key is made, and it verifies; a key readable by others is reported."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from tether.decisions import DecisionStore, verify_file
from tether.decisions.chain import canonical_json, row_hash
from tether.decisions.keys import key_path
from tether.decisions.schema import APP_ID, GENESIS_HASH, MIGRATIONS


def _old_store(path: Path, rows: int) -> None:
    """Schema 1 exactly as the first release wrote it, with a chained log and no seals."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(MIGRATIONS[0])
    prev = GENESIS_HASH
    for i in range(rows):
        body = canonical_json(
            {
                "ts": f"2026-01-01T00:00:{i:02d}+00:00",
                "outcome": "pinned",
                "actor": "user",
                "class_key": f"c{i}",
                "data": {"mode": "always_ask"},
            }
        )
        digest = row_hash(prev, body)
        conn.execute(
            "INSERT INTO decisions(body, prev_hash, hash) VALUES (?, ?, ?)", (body, prev, digest)
        )
        conn.execute(
            "INSERT OR REPLACE INTO pins(class_key, mode, created_at) VALUES (?, ?, ?)",
            (f"c{i}", "always_ask", "2026-01-01"),
        )
        prev = digest
    conn.executemany(
        "INSERT INTO meta(key, value) VALUES (?, ?)",
        [
            ("app", APP_ID),
            ("schema_version", "1"),
            ("head_hash", prev),
            ("head_seq", str(rows)),
            ("created_at", "2026-01-01"),
        ],
    )
    conn.close()


async def test_an_old_store_is_sealed_on_first_open(tmp_path: Path) -> None:
    db = tmp_path / "tether.db"
    _old_store(db, 5)
    assert verify_file(db).ok and not verify_file(db).sealed  # nothing to check seals with
    async with await DecisionStore.open(db) as store:
        assert await store.head() == (5, (await store.decisions())[-1].hash)
        assert len(await store.pins()) == 5
    assert key_path(db).is_file()
    result = verify_file(db)
    assert result.ok and result.sealed and result.rows == 5, result.summary()
    assert result.anchored_seq == 0  # nothing appended since: no checkpoint was needed


async def test_a_key_readable_by_others_is_reported(tmp_path: Path) -> None:
    db = tmp_path / "tether.db"
    async with await DecisionStore.open(db) as store:
        await store.set_pin("c", "always_ask")
    os.chmod(key_path(db), 0o644)
    result = verify_file(db)
    assert not result.ok and result.kind == "checkpoint"
    assert "readable by others" in (result.detail or "") and "chmod 600" in result.detail
