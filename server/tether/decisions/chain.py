"""Hash chain: canonical JSON, row hashes and seals, and a walk that says what went wrong.

hash = sha256(prev_hash + "\\n" + body), body being the canonical JSON of the row content.
seal = HMAC(store key, "row:<seq>:<hash>"), set by Tether's own connections as the row is
inserted: a row rewritten and re-hashed, or appended by another program, has no valid seal
even when its hash and links are consistent. Verification only hashes stored bytes (no
re-serialisation), which keeps it well above 100,000 rows per second.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from tether.decisions.models import VerifyProblem
from tether.decisions.schema import GENESIS_HASH

Sealer = Callable[[str], str]
#: (seq, body (str or UTF-8 bytes), prev_hash, hash, seal)
Row = Sequence[Any]


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def row_seal_message(seq: int, digest: str) -> str:
    return f"row:{seq}:{digest}"


def head_seal_message(seq: int, digest: str) -> str:
    return f"head:{seq}:{digest}"


def walk(
    rows: Sequence[Row], sealer: Sealer | None, *, sealed_after: int = 0
) -> VerifyProblem | None:
    """The first broken row of the log, in seq order; None when every row holds.

    Per row: its content against its hash, its link to the row before (classifying a
    broken link as deleted, inserted, reordered or a rewritten neighbour), then its seal,
    for rows after `sealed_after` (rows up to a signed checkpoint that still agrees are
    proven by it and the links: a rewrite there would change the checkpointed hash).
    """
    sha = hashlib.sha256
    prev, prev_seq = GENESIS_HASH, 0
    for i, (seq, body, prev_hash, stored, seal) in enumerate(rows):
        # `body` may come as bytes (CAST AS BLOB: no decode and re-encode per row)
        data = body if isinstance(body, bytes) else body.encode()
        if sha(prev_hash.encode() + b"\n" + data).hexdigest() != stored:
            return VerifyProblem(
                kind="edited",
                seq=seq,
                detail=f"row {seq} was edited: its content no longer matches its hash",
            )
        if prev_hash != prev:
            position = {r[3]: k for k, r in enumerate(rows)}  # only once something broke
            return _broken_link(rows, i, position, prev_seq)
        if seq != prev_seq + 1:
            return VerifyProblem(
                kind="edited",
                seq=seq,
                detail=f"row {seq} was renumbered: it links to row {prev_seq} directly, but "
                f"the numbers in between ({_span(prev_seq + 1, seq - 1)}) are gone",
            )
        if sealer is not None and seq > sealed_after and seal != sealer(f"row:{seq}:{stored}"):
            return _bad_seal(rows, i, seal, sealer)
        prev, prev_seq = stored, seq
    return None


def _broken_link(
    rows: Sequence[Row], i: int, position: dict[str, int], prev_seq: int
) -> VerifyProblem:
    seq, prev_hash = rows[i][0], rows[i][2]
    j = position.get(prev_hash)
    if j is None and prev_hash == GENESIS_HASH:
        return VerifyProblem(
            kind="inserted",
            seq=rows[0][0],
            detail=f"row {seq} claims to be the first row, but {i} row(s) come before it "
            f"(rows {_span(rows[0][0], prev_seq)} are not in the chain)",
        )
    if j is None:
        if seq != prev_seq + 1:
            missing = list(range(prev_seq + 1, seq))
            return VerifyProblem(
                kind="deleted",
                seq=missing[0],
                missing=missing,
                detail=f"row(s) {_span(missing[0], missing[-1])} were deleted: row {seq} links "
                "to a row that is no longer in the log",
            )
        return VerifyProblem(
            kind="edited",
            seq=prev_seq,
            detail=f"row {prev_seq} was rewritten and re-hashed: row {seq} still links to "
            "the original",
        )
    if j > i:
        return VerifyProblem(
            kind="reordered",
            seq=seq,
            detail=f"row {seq} is out of place: it links to row {rows[j][0]}, which now comes "
            "after it",
        )
    first, last = rows[j + 1][0], rows[i - 1][0]
    return VerifyProblem(
        kind="inserted",
        seq=first,
        detail=f"row(s) {_span(first, last)} were inserted: they are not in the chain, which "
        f"runs from row {rows[j][0]} straight to row {seq}",
    )


def _bad_seal(rows: Sequence[Row], i: int, seal: str | None, sealer: Sealer) -> VerifyProblem:
    seq = rows[i][0]
    if seal is None and all(r[4] is None for r in rows[i:]):
        last = rows[-1][0]
        return VerifyProblem(
            kind="inserted",
            seq=seq,
            detail=f"row(s) {_span(seq, last)} were appended outside Tether: chained, but "
            "not sealed by this store's key",
        )
    if seal is None:
        return VerifyProblem(
            kind="inserted",
            seq=seq,
            detail=f"row {seq} was not written by Tether: chained, but not sealed by this "
            "store's key",
        )
    return VerifyProblem(
        kind="edited",
        seq=seq,
        detail=f"row {seq} was rewritten and re-hashed outside Tether: its hash is "
        "consistent, but its seal no longer matches",
    )


def check_head(
    rows: Sequence[Row], meta: dict[str, str], sealer: Sealer | None
) -> VerifyProblem | None:
    """The recorded head against the log's last row (and its seal, with the key)."""
    head_hash = meta.get("head_hash", GENESIS_HASH)
    try:
        head_seq = int(meta.get("head_seq", "0"))
    except ValueError:
        return VerifyProblem(
            kind="head", detail=f"the recorded head seq {meta.get('head_seq')!r} is not a number"
        )
    last_seq, last_hash = (rows[-1][0], rows[-1][3]) if rows else (0, GENESIS_HASH)
    seal = meta.get("head_seal")
    sealed = sealer is None or seal == sealer(f"head:{head_seq}:{head_hash}")
    by_hash = {r[3]: r[0] for r in rows[-64:]} if rows else {}
    if not sealed:
        at = by_hash.get(head_hash)
        if at is not None and at != head_seq:
            what = f"meta.head_seq was changed to {head_seq}; the head hash is row {at}'s"
        elif head_seq == last_seq and head_hash != last_hash:
            what = f"the head hash was changed (it is not row {head_seq}'s)"
        else:
            what = f"it says row {head_seq} ({head_hash[:12]}), which Tether did not seal"
        return VerifyProblem(
            kind="head", detail=f"the recorded head was changed outside Tether: {what}"
        )
    if head_hash == last_hash and head_seq == last_seq:
        return None
    if head_hash in by_hash and by_hash[head_hash] < last_seq:
        first = by_hash[head_hash] + 1
        return VerifyProblem(
            kind="inserted",
            seq=first,
            detail=f"row(s) {_span(first, last_seq)} were appended outside Tether after the "
            f"recorded head (row {by_hash[head_hash]})",
        )
    if head_seq > last_seq:
        missing = list(range(last_seq + 1, head_seq + 1))
        return VerifyProblem(
            kind="truncated",
            seq=last_seq + 1,
            missing=missing,
            detail=f"truncated after row {last_seq}: the recorded head is row {head_seq} "
            f"(missing: {_span(missing[0], missing[-1])})",
        )
    return VerifyProblem(
        kind="head",
        detail=f"the recorded head (row {head_seq}, {head_hash[:12]}) is not the log's last "
        f"row ({last_seq}, {last_hash[:12]})",
    )


def _span(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"
