"""SQLite's POSIX locks survive everything this process does to a store it has open.

Closing any descriptor of a file drops every POSIX lock the process holds on it, SQLite's
included. Without its shared lock, another process that closes its own connection believes
it is the last one, checkpoints and deletes the WAL under our live connection, and rows
appended afterwards vanish. These tests let a second process do exactly that and check the
WAL, and every row, are still there.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tether.core.types import Actor, Outcome, utcnow
from tether.decisions import DecisionContent, DecisionStore, verify_file

#: Another process opens the store with plain sqlite3, reads it, and closes it.
READ_AND_CLOSE = textwrap.dedent(
    """
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1])
    print(conn.execute("SELECT count(*) FROM decisions").fetchone()[0])
    conn.close()
    """
)


def _count_elsewhere(db: Path) -> int:
    out = subprocess.run(
        [sys.executable, "-c", READ_AND_CLOSE, str(db)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return int(out.stdout)


def _content(i: int) -> DecisionContent:
    return DecisionContent(
        ts=utcnow(), outcome=Outcome.PINNED, actor=Actor.USER, class_key=f"lock-{i}"
    )


def _wal(db: Path) -> Path:
    return db.with_name(db.name + "-wal")


async def test_verify_keeps_the_live_wal(tmp_path: Path) -> None:
    db = tmp_path / "tether.db"
    store = await DecisionStore.open(db)
    try:
        for i in range(3):
            await store.append(_content(i))
        assert (await store.verify()).ok
        verify_file(db)  # the synchronous verifier, in the same process, is just as careful
        assert _wal(db).exists()

        assert _count_elsewhere(db) == 3

        assert _wal(db).exists(), "another process deleted the WAL under our connection"
        record = await store.append(_content(3))
        assert record.seq == 4
        assert _count_elsewhere(db) == 4  # the new row is in the WAL other processes see
    finally:
        await store.close()
    result = verify_file(db)
    assert result.ok and result.rows == 4, result.summary()


async def test_second_store_in_the_same_process_keeps_the_first_ones_locks(
    tmp_path: Path,
) -> None:
    db = tmp_path / "tether.db"
    first = await DecisionStore.open(db)
    try:
        await first.append(_content(0))
        second = await DecisionStore.open(db)  # e.g. the service and a command, one process
        try:
            await second.append(_content(1))
        finally:
            await second.close()

        assert _count_elsewhere(db) == 2

        assert _wal(db).exists(), "another process deleted the WAL under our connection"
        await first.append(_content(2))
        assert _count_elsewhere(db) == 3
    finally:
        await first.close()
    result = verify_file(db)
    assert result.ok and result.rows == 3, result.summary()
    assert [r.class_key for r in await _all(db)] == ["lock-0", "lock-1", "lock-2"]


async def _all(db: Path) -> list:
    store = await DecisionStore.open(db, create=False)
    try:
        return await store.decisions()
    finally:
        await store.close()
