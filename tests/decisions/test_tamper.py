"""Every way of tampering with a store that the probes tried, each caught and named.

The store is filled through DecisionStore (proposals, verdicts, a pin, a memory item and
a profile snapshot; a checkpoint every 5 rows and one at shutdown), then changed with
plain sqlite3, as anyone who can write the file could. The first 13 cases were caught
before checkpoints and seals; the last 7 were not.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tether.core.types import Actor, Outcome, utcnow
from tether.decisions import DecisionStore, MemoryRow, verify_file
from tether.decisions.chain import row_hash

from .helpers import make_proposal

ROWS = 21  # 10 proposals x (proposed + verdict) + one pin
PIN_CLASS = "improve|python|src|small"


async def fill(path: Path) -> None:
    store = await DecisionStore.open(path, checkpoint_every=5)
    for i in range(10):
        p = make_proposal(path=f"src/m{i}.py")
        await store.add_proposal(p)
        await store.record(
            Outcome.REJECTED if i % 3 else Outcome.ACCEPTED,
            actor=Actor.USER,
            proposal_id=p.id,
            reason="too noisy" if i % 3 else None,
        )
    await store.set_pin(PIN_CLASS, "always_ask")
    now = utcnow()
    await store.put_memory(
        MemoryRow(id="m" * 32, kind="insight", created_at=now, updated_at=now, body={"rule": "x"})
    )
    await store.save_profile_snapshot(ROWS, {"classes": {}})
    await store.close()


@pytest.fixture
async def db(tmp_path: Path) -> Path:
    path = tmp_path / "tether.db"
    await fill(path)
    return path


def _rows(conn: sqlite3.Connection) -> dict[int, tuple[str, str, str]]:
    return {
        seq: (body, prev, digest)
        for seq, body, prev, digest in conn.execute(
            "SELECT seq, body, prev_hash, hash FROM decisions ORDER BY seq"
        )
    }


def _forged_body(seq: int) -> str:
    return json.dumps({"actor": "user", "outcome": "accepted", "ts": f"2026-01-01T00:00:{seq:02d}"})


def _set_head(conn: sqlite3.Connection, seq: int, digest: str) -> None:
    conn.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", (digest,))
    conn.execute("UPDATE meta SET value = ? WHERE key = 'head_seq'", (str(seq),))


# ---------------------------------------------------------------------- the tampering
def edit_body(c: sqlite3.Connection) -> None:
    c.execute("UPDATE decisions SET body = replace(body, 'too noisy', 'fine') WHERE seq = 4")


def edit_timestamp(c: sqlite3.Connection) -> None:
    c.execute(
        'UPDATE decisions SET body = replace(body, \'"ts":"20\', \'"ts":"19\') WHERE seq = 12'
    )


def corrupt_hash(c: sqlite3.Connection) -> None:
    c.execute("UPDATE decisions SET hash = ? WHERE seq = 6", ("f" * 64,))


def edit_prev_hash(c: sqlite3.Connection) -> None:
    c.execute("UPDATE decisions SET prev_hash = ? WHERE seq = 6", ("e" * 64,))


def rewrite_and_rehash_middle(c: sqlite3.Connection) -> None:
    body, prev, _ = _rows(c)[6]
    forged = body.replace("too noisy", "great")
    assert forged != body
    c.execute(
        "UPDATE decisions SET body = ?, hash = ? WHERE seq = 6", (forged, row_hash(prev, forged))
    )


def delete_middle(c: sqlite3.Connection) -> None:
    c.execute("DELETE FROM decisions WHERE seq = 7")


def delete_several(c: sqlite3.Connection) -> None:
    c.execute("DELETE FROM decisions WHERE seq BETWEEN 5 AND 7")


def delete_first(c: sqlite3.Connection) -> None:
    c.execute("DELETE FROM decisions WHERE seq = 1")


def delete_tail_keep_head(c: sqlite3.Connection) -> None:
    c.execute("DELETE FROM decisions WHERE seq >= 20")


def insert_middle(c: sqlite3.Connection) -> None:
    prev = _rows(c)[4][2]
    body = _forged_body(5)
    c.execute("UPDATE decisions SET seq = seq + 1000 WHERE seq >= 5")
    c.execute("UPDATE decisions SET seq = seq - 999 WHERE seq >= 1005")
    c.execute(
        "INSERT INTO decisions(seq, body, prev_hash, hash) VALUES (5, ?, ?, ?)",
        (body, prev, row_hash(prev, body)),
    )


def append_keep_head(c: sqlite3.Connection) -> None:
    prev = _rows(c)[ROWS][2]
    body = _forged_body(ROWS + 1)
    c.execute(
        "INSERT INTO decisions(body, prev_hash, hash) VALUES (?, ?, ?)",
        (body, prev, row_hash(prev, body)),
    )


def swap_rows(c: sqlite3.Connection) -> None:
    c.execute("UPDATE decisions SET seq = -1 WHERE seq = 9")
    c.execute("UPDATE decisions SET seq = 9 WHERE seq = 10")
    c.execute("UPDATE decisions SET seq = 10 WHERE seq = -1")


def corrupt_head(c: sqlite3.Connection) -> None:
    c.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", ("0badc0de" * 8,))


def rewrite_tail_move_head(c: sqlite3.Connection) -> None:
    rows = _rows(c)
    prev = rows[ROWS - 2][2]
    for seq in (ROWS - 1, ROWS):
        body = rows[seq][0].replace('"ts":"20', '"ts":"19')
        digest = row_hash(prev, body)
        c.execute(
            "UPDATE decisions SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            (body, prev, digest, seq),
        )
        prev = digest
    _set_head(c, ROWS, prev)


def append_move_head(c: sqlite3.Connection) -> None:
    append_keep_head(c)
    digest = c.execute("SELECT hash FROM decisions WHERE seq = ?", (ROWS + 1,)).fetchone()[0]
    _set_head(c, ROWS + 1, digest)


def delete_tail_fix_head(c: sqlite3.Connection) -> None:
    c.execute("DELETE FROM decisions WHERE seq >= 19")
    _set_head(c, 18, _rows(c)[18][2])


def wipe_log_reset_head(c: sqlite3.Connection) -> None:
    c.execute("DELETE FROM decisions")
    _set_head(c, 0, "0" * 64)


def edit_head_seq(c: sqlite3.Connection) -> None:
    c.execute("UPDATE meta SET value = '10' WHERE key = 'head_seq'")


def edit_proposal_state(c: sqlite3.Connection) -> None:
    c.execute(
        "UPDATE proposals SET state = 'rejected' WHERE path = 'src/m0.py'"
    )  # the log says accepted


def insert_pin(c: sqlite3.Connection) -> None:
    c.execute(
        "INSERT INTO pins(class_key, mode, created_at) VALUES ('fix|python|tests|small', "
        "'never_auto', '2026-01-01T00:00:00+00:00')"
    )


@dataclass(frozen=True)
class Case:
    tamper: Callable[[sqlite3.Connection], None]
    kind: str
    seq: int | None
    message: str
    missing: list[int] | None = None
    checkpoint: bool = False  # the headline names the checkpoint that proves it


CASES: dict[str, Case] = {
    # ---- caught before checkpoints and seals
    "edited body": Case(edit_body, "edited", 4, "row 4 was edited: its content no longer"),
    "edited timestamp": Case(edit_timestamp, "edited", 12, "row 12 was edited"),
    "corrupted row hash": Case(corrupt_hash, "edited", 6, "row 6 was edited"),
    "edited link": Case(edit_prev_hash, "edited", 6, "row 6 was edited"),
    "rewritten and re-hashed row": Case(
        rewrite_and_rehash_middle, "edited", 6, "row 6 was rewritten and re-hashed"
    ),
    "deleted row": Case(delete_middle, "deleted", 7, "row(s) 7 were deleted", [7]),
    "deleted rows": Case(delete_several, "deleted", 5, "row(s) 5-7 were deleted", [5, 6, 7]),
    "deleted first row": Case(delete_first, "deleted", 1, "row(s) 1 were deleted", [1]),
    "deleted tail, head kept": Case(
        delete_tail_keep_head,
        "truncated",
        20,
        "truncated after row 19: the log ends at row 19, but checkpoint #",
        [20, 21],
        checkpoint=True,
    ),
    "inserted row": Case(insert_middle, "inserted", 5, "row 5 was not written by Tether"),
    "appended row, head kept": Case(
        append_keep_head, "inserted", 22, "row(s) 22 were appended outside Tether"
    ),
    "swapped rows": Case(swap_rows, "reordered", 9, "row 9 is out of place"),
    "corrupted head": Case(
        corrupt_head, "head", None, "the recorded head was changed outside Tether"
    ),
    # ---- not caught before
    "rewritten tail, head moved": Case(
        rewrite_tail_move_head, "edited", 20, "row 20 was rewritten and re-hashed outside"
    ),
    "forged row appended, head moved": Case(
        append_move_head, "inserted", 22, "row(s) 22 were appended outside Tether"
    ),
    "tail deleted, head fixed": Case(
        delete_tail_fix_head,
        "truncated",
        19,
        "truncated after row 18: the log ends at row 18, but checkpoint #",
        [19, 20, 21],
        checkpoint=True,
    ),
    "log wiped, head reset": Case(
        wipe_log_reset_head,
        "truncated",
        1,
        "truncated after row 0: the log is empty, but checkpoint #",
        list(range(1, ROWS + 1)),
        checkpoint=True,
    ),
    "edited head_seq": Case(
        edit_head_seq, "head", None, "meta.head_seq was changed to 10; the head hash is row 21's"
    ),
    "edited proposal state": Case(
        edit_proposal_state,
        "state",
        2,
        "is 'rejected' in the proposals table, but the log (row 2) says 'accepted'",
    ),
    "inserted pin": Case(
        insert_pin,
        "state",
        None,
        "pin fix|python|tests|small = never_auto is in the pins table but not in the log",
    ),
}


def tamper(db: Path, fn: Callable[[sqlite3.Connection], None]) -> None:
    conn = sqlite3.connect(db)
    with conn:
        fn(conn)
    conn.close()


async def test_the_untouched_store_verifies(db: Path) -> None:
    result = verify_file(db)
    assert result.ok, result.summary()
    assert result.rows == ROWS and result.sealed
    assert result.anchored_seq == ROWS  # the shutdown checkpoint covers the last row
    assert result.checkpoints == 5  # rows 5, 10, 15, 20 and 21 (shutdown)


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
async def test_tampering_is_caught_and_named(db: Path, case: Case) -> None:
    tamper(db, case.tamper)
    result = verify_file(db)
    assert not result.ok
    assert (result.kind, result.first_broken_seq) == (case.kind, case.seq), result.summary()
    assert case.message in (result.detail or ""), result.summary()
    assert result.missing == case.missing
    if case.checkpoint:
        assert result.checkpoint is not None
        assert f"checkpoint #{result.checkpoint} (row {ROWS}, shutdown" in (result.detail or "")
    assert result.summary().startswith("chain BROKEN")


def test_twenty_cases() -> None:
    assert len(CASES) == 20
