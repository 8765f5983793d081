"""Hash chain: canonical JSON, row hashes, and a verifier that says what went wrong.

hash = sha256(prev_hash + "\n" + body), body being the canonical JSON of the row content.
Verification only hashes stored bytes (no re-serialisation), which keeps it well above
100,000 rows per second.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

from tether.decisions.models import VerifyResult
from tether.decisions.schema import GENESIS_HASH


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def verify_connection(conn: sqlite3.Connection) -> VerifyResult:
    """Walk the chain in seq order and name the first broken row and the kind of break."""
    rows = conn.execute("SELECT seq, body, prev_hash, hash FROM decisions ORDER BY seq").fetchall()
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    position = {r[3]: i for i, r in enumerate(rows)}
    sha = hashlib.sha256
    prev = GENESIS_HASH
    for i, (seq, body, prev_hash, stored) in enumerate(rows):
        if sha(f"{prev_hash}\n{body}".encode()).hexdigest() != stored:
            return _broken(rows, seq, "edited", "its content no longer matches its hash")
        if prev_hash != prev:
            j = position.get(prev_hash, -2 if prev_hash != GENESIS_HASH else -1)
            if j == -2:
                gap = i > 0 and seq != rows[i - 1][0] + 1
                if gap or i == 0:
                    return _broken(rows, seq, "deleted", "the row it was chained to is missing")
                return _broken(
                    rows,
                    rows[i - 1][0],
                    "edited",
                    "it was rewritten and re-hashed; the next row still links to the original",
                )
            if j < i - 1:
                return _broken(
                    rows,
                    rows[j + 1][0],
                    "inserted",
                    f"{i - 1 - j} row(s) not in the chain sit between rows "
                    f"{rows[j][0] if j >= 0 else 'genesis'} and {seq}",
                )
            return _broken(rows, seq, "reordered", "it links to a row that now comes after it")
        prev = stored
    head = meta.get("head_hash", GENESIS_HASH)
    if head != prev:
        if head in position:
            return _broken(
                rows,
                rows[position[head] + 1][0],
                "inserted",
                "rows were appended outside Tether after the recorded head",
            )
        return _broken(
            rows,
            int(meta.get("head_seq", 0)),
            "deleted",
            "the recorded head row is missing (rows were removed from the end)",
        )
    return VerifyResult(ok=True, rows=len(rows), head_hash=prev)


def _broken(rows: list[tuple[Any, ...]], seq: int, kind: str, detail: str) -> VerifyResult:
    return VerifyResult(
        ok=False,
        rows=len(rows),
        head_hash=rows[-1][3] if rows else GENESIS_HASH,
        first_broken_seq=seq,
        kind=kind,  # type: ignore[arg-type]
        detail=detail,
    )
