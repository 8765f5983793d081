"""Store benchmark: durable chained appends against plain SQLite, and chain verification.

The decision store promises that a decision is on disk (WAL, synchronous=FULL, one commit
per row) before the editor is told, and that every row is hash-chained. The baseline is
what a plain `sqlite3` program with the same durability gets on the same disk in the same
run; both are measured in alternating rounds so a noisy neighbour hurts both alike.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

PLAIN_TABLE = "CREATE TABLE decisions (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)"
PLAIN_INSERT = "INSERT INTO decisions(body) VALUES (?)"

BODY_TEXT = (
    "    def area(self) -> float:\n"
    '        """Area of the shape in square units."""\n'
    "        return self.width * self.height\n"
)


def _content(i: int) -> Any:
    from tether.core.types import Actor, Outcome, utcnow
    from tether.decisions import DecisionContent

    return DecisionContent(
        ts=utcnow(),
        outcome=Outcome.ACCEPTED if i % 3 else Outcome.REJECTED,
        actor=Actor.USER,
        proposal_id=f"{i:032x}",
        class_key="docstring:python:code:1-3",
        path=f"src/pkg/module_{i % 50}.py",
        uri=f"file:///work/src/pkg/module_{i % 50}.py",
        model="embedded:smollm2",
        reason=None if i % 3 else "not my style",
        before=BODY_TEXT,
        after=BODY_TEXT.replace("Area", f"Area ({i})"),
        data={"bench": i},
    )


async def _interleaved(
    base: Path, total: int, block: int
) -> tuple[float, float, float, list[float]]:
    """Tether appends and plain inserts in alternating small blocks, all stores open.

    Fsync latency on a shared disk swings by 2-3x within seconds; rotating blocks of a few
    dozen rows exposes every writer to the same swings. Three writers, same pragmas:

    - Tether's `DecisionStore.append` (async, on aiosqlite's thread, hash-chained);
    - plain `sqlite3` in the calling thread: the baseline of the target;
    - the same plain INSERT through aiosqlite (its own autocommit transaction, one trip to
      the worker thread): not a target, it shows what the thread hand-off alone costs.

    Returns total seconds for each, and the per-block-round tether/plain rate ratios.
    """
    import aiosqlite

    from tether.decisions import DecisionStore
    from tether.decisions.chain import canonical_json

    contents = [_content(i) for i in range(total)]
    bodies = [canonical_json(c.model_dump(mode="json")) for c in contents]
    store = await DecisionStore.open(base / "tether.db")
    conn = sqlite3.connect(base / "plain.db", isolation_level=None)
    aconn = await aiosqlite.connect(base / "plain-async.db", isolation_level=None)
    for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", PLAIN_TABLE):
        conn.execute(pragma)
        await aconn.execute(pragma)
    spent = {"tether": 0.0, "plain": 0.0, "async": 0.0}
    ratios: list[float] = []
    try:
        for k, start in enumerate(range(0, total, block)):
            rows = range(start, min(start + block, total))

            async def tether_block(rows: range = rows) -> float:
                t0 = time.perf_counter()
                for i in rows:
                    await store.append(contents[i])
                return time.perf_counter() - t0

            async def plain_block(rows: range = rows) -> float:
                t0 = time.perf_counter()
                for i in rows:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute(PLAIN_INSERT, (bodies[i],))
                    conn.execute("COMMIT")
                return time.perf_counter() - t0

            async def async_block(rows: range = rows) -> float:
                t0 = time.perf_counter()
                for i in rows:
                    await aconn.execute_fetchall(PLAIN_INSERT, (bodies[i],))
                return time.perf_counter() - t0

            writers = [("tether", tether_block), ("plain", plain_block), ("async", async_block)]
            shift = k % len(writers)
            took: dict[str, float] = {}
            for name, run_block in writers[shift:] + writers[:shift]:
                took[name] = await run_block()
            for name, seconds in took.items():
                spent[name] += seconds
            ratios.append(took["plain"] / took["tether"])  # (rows/t) / (rows/p)
    finally:
        conn.close()
        await aconn.close()
        await store.close()
    return spent["tether"], spent["plain"], spent["async"], ratios


def build_chain(path: Path, rows: int) -> float:
    """A valid store of `rows` chained decisions, written in one transaction (seconds)."""
    from tether.decisions import DecisionStore
    from tether.decisions.chain import canonical_json, row_hash
    from tether.decisions.schema import GENESIS_HASH

    async def create() -> None:
        store = await DecisionStore.open(path)
        await store.close()

    asyncio.run(create())
    t0 = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        prev = GENESIS_HASH
        batch = []
        for i in range(rows):
            body = canonical_json(_content(i).model_dump(mode="json"))
            digest = row_hash(prev, body)
            batch.append((body, prev, digest))
            prev = digest
            if len(batch) == 5000:
                conn.executemany(
                    "INSERT INTO decisions(body, prev_hash, hash) VALUES (?,?,?)", batch
                )
                batch.clear()
        if batch:
            conn.executemany("INSERT INTO decisions(body, prev_hash, hash) VALUES (?,?,?)", batch)
        conn.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", (prev,))
        conn.execute("UPDATE meta SET value = ? WHERE key = 'head_seq'", (str(rows),))
        conn.execute("COMMIT")
    finally:
        conn.close()
    from bench.trust import seal_bulk

    seal_bulk(path)  # the seals Tether's own connection would have written
    return time.perf_counter() - t0


def run(
    *, appends: int = 2000, block: int = 25, verify_rows: int = 100_000, verify_repeats: int = 3
) -> dict[str, Any]:
    import statistics

    from tether.decisions import verify_file

    with tempfile.TemporaryDirectory(prefix="tether-bench-store-") as tmp:
        base = Path(tmp)
        tether_s, plain_s, async_s, ratios = asyncio.run(_interleaved(base, appends, block))
        appended = verify_file(base / "tether.db")
        chain_db = base / "chain.db"
        build_s = build_chain(chain_db, verify_rows)
        timings = []
        result = None
        for _ in range(verify_repeats):
            t0 = time.perf_counter()
            result = verify_file(chain_db)
            timings.append(time.perf_counter() - t0)
        assert result is not None
    tether_rate = appends / tether_s
    plain_rate = appends / plain_s
    best = min(timings)
    return {
        "appends": appends,
        "block": block,
        "tether_appends_per_s": tether_rate,
        "plain_inserts_per_s": plain_rate,
        "ratio": tether_rate / plain_rate,
        "ratio_median_block": statistics.median(ratios),
        "plain_async_inserts_per_s": appends / async_s,
        "plain_async_ms_per_insert": 1000 * async_s / appends,
        "ratio_vs_plain_async": (appends / tether_s) / (appends / async_s),
        "tether_ms_per_append": 1000 * tether_s / appends,
        "plain_ms_per_insert": 1000 * plain_s / appends,
        "appended_chain_ok": appended.ok and appended.rows == appends,
        "verify_rows": result.rows,
        "verify_ok": result.ok,
        "verify_seconds_best": best,
        "verify_seconds_all": timings,
        "verify_rows_per_s": result.rows / best,
        "build_seconds": build_s,
    }
