"""Concurrency, foreign and corrupt files, failed writes, history queries."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tether.core.types import Actor, Outcome, utcnow
from tether.decisions import (
    DecisionContent,
    DecisionStore,
    HistoryFilter,
    StoreError,
    StoreWriteError,
    verify_file,
)

from .helpers import make_proposal

APPENDER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from tether.core.types import Actor, Outcome, utcnow
    from tether.decisions import DecisionContent, DecisionStore

    async def main(path, n, tag, how):
        store = await DecisionStore.open(Path(path))
        print("ready", flush=True)
        sys.stdin.readline()  # start together with the other process
        for i in range(n):
            if how == "record" or (how == "mixed" and i % 2):
                await store.record(Outcome.PINNED, actor=Actor.USER, class_key=f"{tag}-{i}")
            else:  # the one-statement append, in its own transaction
                await store.append(
                    DecisionContent(
                        ts=utcnow(), outcome=Outcome.PINNED, actor=Actor.USER,
                        class_key=f"{tag}-{i}",
                    )
                )
        await store.close()

    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]))
    """
)


@pytest.mark.parametrize(("how", "per_process"), [("record", 1000), ("mixed", 500)])
async def test_two_processes_append_without_losing_rows(
    tmp_path: Path, how: str, per_process: int
) -> None:
    db = tmp_path / "tether.db"
    store = await DecisionStore.open(db)
    await store.close()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, str(db), str(per_process), tag, how],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for tag in ("a", "b")
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        assert p.wait(timeout=600) == 0
    result = verify_file(db)
    assert result.ok, result.summary()
    assert result.rows == 2 * per_process
    conn = sqlite3.connect(db)
    keys = [r[0] for r in conn.execute("SELECT class_key FROM decisions ORDER BY seq")]
    conn.close()
    for tag in ("a", "b"):  # every row of each writer, in the order it wrote them
        assert [k for k in keys if k.startswith(f"{tag}-")] == [
            f"{tag}-{i}" for i in range(per_process)
        ]


async def test_foreign_sqlite_database_is_refused_and_untouched(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    with pytest.raises(StoreError, match="did not create"):
        await DecisionStore.open(db)
    assert db.read_bytes() == before


async def test_garbage_file_is_refused_and_untouched(tmp_path: Path) -> None:
    db = tmp_path / "tether.db"
    db.write_bytes(b"this is not a database\x00" * 100)
    before = db.read_bytes()
    with pytest.raises(StoreError, match="not a SQLite database"):
        await DecisionStore.open(db)
    with pytest.raises(StoreError):
        verify_file(db)
    assert db.read_bytes() == before


async def test_corrupted_pages_are_reported(tmp_path: Path) -> None:
    db = tmp_path / "tether.db"
    store = await DecisionStore.open(db)
    for _ in range(200):
        p = make_proposal()
        await store.add_proposal(p)
    await store.close()
    data = bytearray(db.read_bytes())
    page = 4096
    for i in range(2 * page, min(len(data), 6 * page)):  # scribble over a few pages
        data[i] = 0xA5
    db.write_bytes(bytes(data))
    with pytest.raises(StoreError):
        await DecisionStore.open(db)


async def test_failed_write_is_not_reported_as_recorded(tmp_path: Path) -> None:
    db = tmp_path / "tether.db"
    store = await DecisionStore.open(db)
    p = make_proposal()
    await store.add_proposal(p)
    await store.close()
    # Open read-only at the SQLite level (works as root too): every write must fail loudly.
    ro = await DecisionStore.open(db)
    await ro.log.db.execute("PRAGMA query_only = ON")
    with pytest.raises(StoreWriteError):
        await ro.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=p.id)
    await ro.close()
    store = await DecisionStore.open(db)
    assert [d.outcome for d in await store.decisions_for(p.id)] == ["proposed"]
    assert (await store.get_proposal(p.id)).state == "pending"
    await store.close()


async def test_history_filters_and_paging(store: DecisionStore) -> None:
    ids = []
    for i in range(12):
        p = make_proposal(
            path=f"src/m{i}.py" if i % 2 else f"tests/t{i}.py",
            class_key="improve|python|tests|small" if i % 2 == 0 else "k",
        )
        await store.add_proposal(p)
        await store.record(
            Outcome.ACCEPTED if i % 3 == 0 else Outcome.REJECTED,
            actor=Actor.USER,
            proposal_id=p.id,
            reason=f"reason {i}",
        )
        ids.append(p.id)
    page = await store.history(HistoryFilter(outcome=[Outcome.ACCEPTED]), limit=2)
    assert page.total == 4 and len(page.items) == 2
    assert page.items[0].seq > page.items[1].seq  # newest first
    page2 = await store.history(HistoryFilter(outcome=[Outcome.ACCEPTED]), offset=2, limit=2)
    assert {r.seq for r in page2.items}.isdisjoint({r.seq for r in page.items})
    tests_only = await store.history(HistoryFilter(path="tests/"))
    assert tests_only.total == 12 and all(r.path.startswith("tests/") for r in tests_only.items)
    by_class = await store.history(HistoryFilter(class_key="k", outcome=[Outcome.REJECTED]))
    assert by_class.total == 4
    search = await store.history(HistoryFilter(search="reason 7"))
    assert [r.proposal_id for r in search.items] == [ids[7]]
    mid = page.items[-1].ts
    since = await store.history(HistoryFilter(since=mid))
    assert all(r.ts >= mid for r in since.items)


async def test_failed_append_is_not_reported_as_recorded(tmp_path: Path) -> None:
    db = tmp_path / "tether.db"
    store = await DecisionStore.open(db)
    await store.record(Outcome.PINNED, actor=Actor.USER, class_key="kept")
    await store.log.db.execute("PRAGMA query_only = ON")
    with pytest.raises(StoreWriteError):
        await store.append(
            DecisionContent(ts=utcnow(), outcome=Outcome.PINNED, actor=Actor.USER, class_key="x")
        )
    assert not store.log.db.in_transaction
    await store.log.db.execute("PRAGMA query_only = OFF")
    assert (await store.head())[0] == 1  # neither the row nor the recorded head moved
    await store.record(Outcome.PINNED, actor=Actor.USER, class_key="after")
    await store.close()
    result = verify_file(db)
    assert result.ok and result.rows == 2, result.summary()
