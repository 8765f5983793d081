"""Trust benchmark: tampering caught, secrets kept in, verify speed, checkpoint cost.

- Tamper cases: the 20 of tests/decisions/test_tamper.py (13 caught before checkpoints and
  seals, 7 not), each applied to a fresh store; a case counts when `verify` fails with the
  expected kind at the expected row.
- Secrets: the corpus of tests/agent/secret_corpus.py planted in prompts that go through the
  agent's teacher path (litellm's `acompletion` replaced at the edge, capturing what would be
  sent) and through `tether export`; a leak is any planted value seen in either.
- Verify speed: a sealed chain of N rows with a checkpoint every 100, built in bulk, then
  `verify_file` (chain, seals, checkpoints, head, state), best of several runs.
- Checkpoint cost: durable appends through DecisionStore with a checkpoint every row vs
  every 10**9 rows (none), in alternating blocks; the difference per row is what one
  checkpoint costs, divided by `checkpoint_every` for the default setting.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.machine import REPO


def seal_bulk(path: Path, *, checkpoint_every: int = 0) -> None:
    """Seal rows written in bulk with plain SQL, as Tether's own connection would have.

    Benchmarks build large chains without a million async appends; this gives them the
    seals and head seal (and, with `checkpoint_every`, the checkpoints) Tether writes.
    """
    from tether.decisions import checkpoints as cps
    from tether.decisions.chain import head_seal_message
    from tether.decisions.keys import key_path, load_key

    key = load_key(key_path(path))
    assert key is not None, f"{path} has no key: open it with DecisionStore first"
    seal = key.sealer()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.create_function("tether_seal", 1, seal, deterministic=True)
        conn.execute("BEGIN")
        conn.execute("UPDATE decisions SET seal = tether_seal('row:' || seq || ':' || hash)")
        seq, digest = conn.execute(
            "SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        conn.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", (digest,))
        conn.execute("UPDATE meta SET value = ? WHERE key = 'head_seq'", (str(seq),))
        conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'head_seal'",
            (seal(head_seal_message(seq, digest)),),
        )
        conn.execute("COMMIT")
        if checkpoint_every:
            store_id = conn.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()[0]
            marks = conn.execute(
                "SELECT seq, hash FROM decisions WHERE seq % ? = 0 ORDER BY seq",
                (checkpoint_every,),
            ).fetchall()
            for at, h in marks:
                cps.append(
                    cps.checkpoint_path(path),
                    key,
                    store_id=store_id,
                    seq=at,
                    head_hash=h,
                    reason="interval",
                )
    finally:
        conn.close()


def tamper_cases() -> dict[str, Any]:
    from tests.decisions import test_tamper as t

    from tether.decisions import verify_file

    caught: dict[str, bool] = {}
    with tempfile.TemporaryDirectory(prefix="tether-bench-tamper-") as tmp:
        for i, (name, case) in enumerate(t.CASES.items()):
            db = Path(tmp) / f"case{i}" / "tether.db"
            db.parent.mkdir()
            asyncio.run(t.fill(db))
            t.tamper(db, case.tamper)
            result = verify_file(db)
            caught[name] = (
                not result.ok
                and (result.kind, result.first_broken_seq) == (case.kind, case.seq)
                and case.message in (result.detail or "")
            )
    names = list(caught)
    return {
        "detected": sum(caught.values()),
        "total": len(caught),
        "previously_detected": sum(caught[n] for n in names[:13]),
        "previously_undetected": sum(caught[n] for n in names[13:]),
        "cases": caught,
    }


def secrets() -> dict[str, Any]:
    from tests.agent.secret_corpus import leak_report

    return asyncio.run(leak_report())


def verify_speed(rows: int, repeats: int) -> dict[str, Any]:
    from bench.store_bench import build_chain
    from tether.decisions import verify_file

    with tempfile.TemporaryDirectory(prefix="tether-bench-verify-") as tmp:
        db = Path(tmp) / "chain.db"
        build_chain(db, rows)
        seal_bulk(db, checkpoint_every=100)
        timings, plain, result = [], [], None
        for _ in range(repeats):  # alternating, so a noisy neighbour hurts both alike
            t0 = time.perf_counter()
            result = verify_file(db)
            timings.append(time.perf_counter() - t0)
            plain.append(_plain_walk(db))
        assert result is not None
        # The worst case: no checkpoint vouches for any row, so every row's seal is checked.
        from tether.decisions import checkpoints as cps

        aside = cps.checkpoint_path(db).rename(db.with_name("aside.checkpoints"))
        unanchored = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            bare = verify_file(db)
            unanchored.append(time.perf_counter() - t0)
        aside.rename(cps.checkpoint_path(db))
    best = min(timings)
    return {
        "unanchored_ok": bare.ok,
        "unanchored_rows_per_s": result.rows / min(unanchored),
        "plain_walk_rows_per_s": result.rows / min(plain),
        "vs_plain_walk": min(plain) / best,
        "rows": result.rows,
        "ok": result.ok,
        "checkpoints": result.checkpoints,
        "sealed": result.sealed,
        "seconds_best": best,
        "seconds_all": timings,
        "rows_per_s": result.rows / best,
    }


def _plain_walk(db: Path) -> float:
    """Seconds to read every row and recompute its hash and link, nothing else: the work
    the verifier did before seals and checkpoints, as the same-run baseline."""
    import hashlib

    t0 = time.perf_counter()
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT seq, CAST(body AS BLOB), prev_hash, hash FROM decisions ORDER BY seq"
        ).fetchall()
    finally:
        conn.close()
    prev = "0" * 64
    for _seq, body, prev_hash, digest in rows:
        ok = hashlib.sha256(prev_hash.encode() + b"\n" + body).hexdigest() == digest
        if not ok or prev_hash != prev:
            break
        prev = digest
    return time.perf_counter() - t0


async def _append_cost(base: Path, rows: int, block: int) -> dict[str, float]:
    from bench.store_bench import _content
    from tether.decisions import DecisionStore

    every_row = await DecisionStore.open(base / "every.db", checkpoint_every=1)
    never = await DecisionStore.open(base / "never.db", checkpoint_every=10**9)
    contents = [_content(i) for i in range(rows)]
    spent = {"every": 0.0, "never": 0.0}
    try:
        for start in range(0, rows, block):
            chunk = contents[start : start + block]
            for name, store in (("every", every_row), ("never", never)):
                t0 = time.perf_counter()
                for c in chunk:
                    await store.append(c)
                spent[name] += time.perf_counter() - t0
    finally:
        await every_row.close()
        await never.close()
    return spent


def checkpoint_cost(rows: int, block: int = 20) -> dict[str, Any]:
    from tether.decisions import checkpoints as cps
    from tether.decisions.keys import load_or_create_key
    from tether.decisions.store import CHECKPOINT_EVERY

    with tempfile.TemporaryDirectory(prefix="tether-bench-cp-") as tmp:
        base = Path(tmp)
        spent = asyncio.run(_append_cost(base, rows, block))
        # The checkpoint write alone (sign, lock, append, fsync), without the appends.
        key = load_or_create_key(base / "solo.key")
        t0 = time.perf_counter()
        for i in range(rows):
            cps.append(
                base / "solo.checkpoints",
                key,
                store_id="bench",
                seq=i + 1,
                head_hash=f"{i:064x}",
                reason="interval",
            )
        solo = (time.perf_counter() - t0) / rows
    per_checkpoint = max(0.0, (spent["every"] - spent["never"]) / rows)
    return {
        "rows": rows,
        "ms_per_append_with_checkpoint_every_row": 1000 * spent["every"] / rows,
        "ms_per_append_without_checkpoints": 1000 * spent["never"] / rows,
        "ms_per_checkpoint_in_store": 1000 * per_checkpoint,
        "ms_per_checkpoint_write_alone": 1000 * solo,
        "checkpoint_every_default": CHECKPOINT_EVERY,
        "us_per_decision_at_default": 1e6 * per_checkpoint / CHECKPOINT_EVERY,
    }


def run(
    *, verify_rows: int = 100_000, verify_repeats: int = 3, checkpoint_rows: int = 200
) -> dict[str, Any]:
    assert (REPO / "tests").is_dir(), "the trust benchmark reuses the tests' tamper cases"
    return {
        "tamper": tamper_cases(),
        "secrets": secrets(),
        "verify": verify_speed(verify_rows, verify_repeats),
        "checkpoint": checkpoint_cost(checkpoint_rows),
    }


def bench(result: Any, options: dict[str, Any]) -> None:
    """Fill a `bench.results.BenchResult` (called by `python -m bench.run`)."""
    from bench.results import Table, Target

    m = run(**options)
    result.metrics = m
    t, s, v, c = m["tamper"], m["secrets"], m["verify"], m["checkpoint"]
    leaked = s["leaked_to_teacher"] + s["leaked_to_export"]
    result.targets = [
        Target(name="tamper cases detected (of 20)", value=t["detected"], target=20, op=">="),
        Target(name="planted secrets leaked (teacher + export)", value=leaked, target=0, op="<="),
        Target(
            name=f"verify speed on {v['rows']:,} rows with checkpoints and seals",
            value=v["rows_per_s"],
            target=100_000,
            op=">=",
            unit="rows/s",
        ),
    ]
    result.tables = [
        Table(
            title="Tamper cases (tests/decisions/test_tamper.py), each on a fresh store",
            headers=["case", "caught and named"],
            rows=[[name, ok] for name, ok in t["cases"].items()],
        ),
        Table(
            title="Secrets (tests/agent/secret_corpus.py)",
            headers=[
                "snippets",
                "planted",
                "teacher calls",
                "leaked to teacher",
                "export rows",
                "leaked to export",
            ],
            rows=[
                [
                    s["snippets"],
                    s["planted"],
                    s["teacher_calls"],
                    s["leaked_to_teacher"],
                    s["export_rows"],
                    s["leaked_to_export"],
                ]
            ],
        ),
        Table(
            title="Verify (chain, seals, checkpoints, head, state), best of runs",
            headers=[
                "rows",
                "checkpoints",
                "sealed",
                "ok",
                "best s",
                "rows/s",
                "rows/s, no checkpoint (every seal checked)",
                "plain hash walk rows/s (same run)",
                "share of plain walk speed",
            ],
            rows=[
                [
                    v["rows"],
                    v["checkpoints"],
                    v["sealed"],
                    v["ok"],
                    round(v["seconds_best"], 3),
                    round(v["rows_per_s"]),
                    round(v["unanchored_rows_per_s"]),
                    round(v["plain_walk_rows_per_s"]),
                    round(v["vs_plain_walk"], 2),
                ]
            ],
        ),
        Table(
            title="Checkpoint cost (durable appends through DecisionStore)",
            headers=[
                "appends",
                "ms/append, checkpoint every row",
                "ms/append, none",
                "ms per checkpoint (in store)",
                "ms per checkpoint write alone",
                f"µs per decision at every {c['checkpoint_every_default']}",
            ],
            rows=[
                [
                    c["rows"],
                    round(c["ms_per_append_with_checkpoint_every_row"], 3),
                    round(c["ms_per_append_without_checkpoints"], 3),
                    round(c["ms_per_checkpoint_in_store"], 3),
                    round(c["ms_per_checkpoint_write_alone"], 3),
                    round(c["us_per_decision_at_default"], 1),
                ]
            ],
        ),
    ]
    result.notes += [
        f"Tamper: {t['previously_detected']}/13 of the cases caught before checkpoints and "
        f"seals, {t['previously_undetected']}/7 of those that were not.",
        "Secrets: the teacher path is the agent with litellm's acompletion wrapped at the edge "
        "(records the messages, answers with litellm's mock_response); export is every format "
        "of `tether export` from a real store holding the whole corpus.",
        "Verify speed depends on the machine's load (2 cores shared here); the plain hash walk "
        "(read every row, recompute hash and link: what verify did before seals and "
        "checkpoints) is measured in the same run, alternating, as the baseline. Seals are "
        "checked on rows after the last signed checkpoint that agrees (the rows before it are "
        "proven by that checkpoint and the hash links); the 'no checkpoint' column is the worst "
        "case, every row's seal checked.",
        "Checkpoint cost: a checkpoint signs (Ed25519), appends one line under a file lock and "
        "fsyncs; measured as the difference between a store checkpointing every row and one "
        "never checkpointing, in alternating blocks on the same disk.",
    ]
