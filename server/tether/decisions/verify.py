"""`verify`: the whole store against its chain, its seals, its checkpoints and lineages.

Order of the report (the first problem is the headline): the chain walk (the first broken
row), then what checkpoints prove (rows cut from the end, a rewritten history), then the
recorded head, then checkpoints that are not this store's, then adapters' lineages, then
state kept outside the chain (pins, proposal states, snapshots, memory). Everything runs
on a read-only connection; nothing is repaired.
"""

from __future__ import annotations

import bisect
import json
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tether.decisions import checkpoints as cps
from tether.decisions.chain import Sealer, check_head, walk
from tether.decisions.errors import StoreError
from tether.decisions.files import claim, release
from tether.decisions.keys import (
    KEY_CHECK,
    KEY_CHECK_MESSAGE,
    StoreKey,
    StoreKeyError,
    key_path,
    load_key,
)
from tether.decisions.models import VerifyProblem, VerifyResult
from tether.decisions.schema import APP_ID, GENESIS_HASH
from tether.decisions.state import check_state
from tether.decisions.transitions import STATE_AFTER


class VerifyInputError(ValueError):
    """A file given to verify (`--against`) that cannot be read as a checkpoint."""


def verify_connection(
    conn: sqlite3.Connection,
    db: Path,
    *,
    against: list[tuple[str, list[cps.Checkpoint]]] | None = None,
) -> VerifyResult:
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    columns = {r[1] for r in conn.execute("PRAGMA table_info(decisions)")}
    seal_col = "seal" if "seal" in columns else "NULL"
    rows = conn.execute(
        f"SELECT seq, CAST(body AS BLOB), prev_hash, hash, {seal_col} FROM decisions ORDER BY seq"
    ).fetchall()
    hash_at = _hash_lookup(rows)
    last_seq = rows[-1][0] if rows else 0
    head_hash = rows[-1][3] if rows else GENESIS_HASH

    key_problems: list[VerifyProblem] = []
    key, sealer = _key(db, meta, key_problems)
    anchored_problems: list[VerifyProblem] = []
    cp_problems: list[VerifyProblem] = []
    checkpoint_list: list[cps.Checkpoint] = []
    try:
        checkpoint_list = cps.read(cps.checkpoint_path(db))
    except cps.CheckpointError as exc:
        cp_problems.append(VerifyProblem(kind="checkpoint", detail=str(exc)))
    public_key = key.public_key if key is not None else meta.get("public_key")
    sources = [("the checkpoint file", checkpoint_list, True)]
    sources += [(name, items, False) for name, items in against or []]
    sources += [(name, items, False) for name, items in _lineages(conn)]
    anchored = 0
    for source, items, linked in sources:
        found, upto = cps.check(
            items,
            hash_at=hash_at,
            last_seq=last_seq,
            store_id=meta.get("store_id"),
            public_key=public_key,
            source=source,
            linked=linked,
        )
        anchored = max(anchored, upto)
        for p in found:
            (anchored_problems if p.kind in ("truncated", "edited") else cp_problems).append(p)
    # Rows up to a signed checkpoint that agrees are proven by it and the hash links (the
    # walk still checks every hash and link); seals are checked on the rows after it.
    walked = walk(rows, sealer, sealed_after=anchored)
    lineage_problems = _lineage_heads(conn, hash_at, last_seq)
    head = check_head(rows, meta, sealer)
    state = check_state(conn, sealer, STATE_AFTER, hash_at)
    problems = [
        *([walked] if walked else []),
        *anchored_problems,
        *([head] if head else []),
        *key_problems,
        *cp_problems,
        *lineage_problems,
        *state,
    ]
    return VerifyResult.of(
        len(rows),
        head_hash,
        problems,
        checkpoints=sum(len(items) for _, items, _ in sources),
        anchored_seq=anchored,
        sealed=sealer is not None,
    )


def _hash_lookup(rows: list[Any]) -> Callable[[int], str | None]:
    """hash_at(seq) over rows sorted by seq, without a dict of every row."""
    seqs = [r[0] for r in rows]

    def hash_at(seq: int) -> str | None:
        i = bisect.bisect_left(seqs, seq)
        return rows[i][3] if i < len(seqs) and seqs[i] == seq else None

    return hash_at


def _key(
    db: Path, meta: dict[str, str], problems: list[VerifyProblem]
) -> tuple[StoreKey | None, Sealer | None]:
    """The store's key and sealer; a missing or foreign key is itself a problem."""
    path = key_path(db)
    try:
        key = load_key(path)
    except StoreKeyError as exc:
        problems.append(VerifyProblem(kind="checkpoint", detail=str(exc)))
        return None, None
    check = meta.get(KEY_CHECK)
    if check is None:
        return None, None  # a store from before seals: nothing was sealed
    if key is None:
        problems.append(
            VerifyProblem(
                kind="checkpoint",
                detail=f"the store's key {path} is missing, so its seals cannot be checked; "
                "restore it from a backup",
            )
        )
        return None, None
    mode = stat.S_IMODE(path.stat().st_mode)
    if os.name == "posix" and mode & 0o077:
        problems.append(
            VerifyProblem(
                kind="checkpoint",
                detail=f"the store key {path} is readable by others (mode {mode:o}): anyone "
                f"who can read it can forge seals and checkpoints; run chmod 600 {path}",
            )
        )
    if key.seal(KEY_CHECK_MESSAGE) != check:
        problems.append(
            VerifyProblem(
                kind="checkpoint",
                detail=f"{path} is not the key this store was sealed with (replaced?); "
                "restore the original from a backup",
            )
        )
        return None, None
    return key, key.sealer()


def _lineage_files(conn: sqlite3.Connection) -> list[tuple[str, Path]]:
    try:
        rows = conn.execute("SELECT version, path FROM adapters").fetchall()
    except sqlite3.Error:
        return []
    return [(v, Path(p) / "lineage.json") for v, p in rows if (Path(p) / "lineage.json").is_file()]


def _bundle_files(conn: sqlite3.Connection) -> list[tuple[str, Path]]:
    """Published bundles still on disk (their `published` rows name the folder)."""
    out: list[tuple[str, Path]] = []
    for (body,) in conn.execute("SELECT body FROM decisions WHERE outcome = 'published'"):
        data = json.loads(body).get("data") or {}
        folder = data.get("path")
        if isinstance(folder, str) and (Path(folder) / "lineage.json").is_file():
            out.append((f"published bundle {data.get('version', folder)}", Path(folder)))
    return out


def _lineages(conn: sqlite3.Connection) -> list[tuple[str, list[cps.Checkpoint]]]:
    """Checkpoints carried by adapters' lineages and published bundles."""
    out: list[tuple[str, list[cps.Checkpoint]]] = []
    carriers = [(f"adapter {v}'s lineage", p) for v, p in _lineage_files(conn)]
    carriers += [(name, folder / "lineage.json") for name, folder in _bundle_files(conn)]
    for name, path in carriers:
        data = _read_json(path)
        cp = data.get("checkpoint") if isinstance(data, dict) else None
        if isinstance(cp, dict):
            try:
                out.append((name, [cps.Checkpoint.model_validate(cp)]))
            except ValueError:
                continue
    return out


def _lineage_heads(
    conn: sqlite3.Connection, hash_at: Callable[[int], str | None], last_seq: int
) -> list[VerifyProblem]:
    """Each adapter's lineage names the log head its data was read at: it must still be so."""
    out: list[VerifyProblem] = []
    for version, path in _lineage_files(conn):
        data = _read_json(path)
        if not isinstance(data, dict):
            continue
        head_hash = data.get("head_hash")
        seq = (data.get("decision_range") or {}).get("head_seq")
        if not isinstance(head_hash, str) or not isinstance(seq, int) or seq <= 0:
            continue
        if seq > last_seq:
            missing = list(range(last_seq + 1, seq + 1))
            out.append(
                VerifyProblem(
                    kind="truncated",
                    seq=last_seq + 1,
                    missing=missing,
                    detail=f"truncated after row {last_seq}: adapter {version} was trained on "
                    f"rows up to {seq} (its lineage.json)",
                )
            )
        elif hash_at(seq) not in (None, head_hash):
            out.append(
                VerifyProblem(
                    kind="edited",
                    seq=seq,
                    detail=f"adapter {version}'s lineage.json records row {seq} as "
                    f"{head_hash[:12]}, the log has {(hash_at(seq) or '')[:12]}: rows up to {seq} "
                    "were rewritten since it was trained",
                )
            )
    return out


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_against(path: Path) -> list[cps.Checkpoint]:
    """Checkpoints from a file a user kept elsewhere (`tether verify --against FILE`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise VerifyInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        items = cps.parse(text, str(path))
    except cps.CheckpointError as exc:
        raise VerifyInputError(str(exc)) from None
    if not items:
        raise VerifyInputError(f"{path} holds no checkpoint")
    return items


def open_readonly(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise StoreError(f"no Tether store at {path}")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        app = conn.execute("SELECT value FROM meta WHERE key='app'").fetchone()
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{path} is not a Tether store: {exc}") from exc
    if not app or app[0] != APP_ID:
        conn.close()
        raise StoreError(f"{path} is not a Tether store")
    return conn


def verify_file(
    path: Path, *, check_header: bool = True, against: Path | None = None
) -> VerifyResult:
    """Verify a store file without the async machinery (used by the CLI and benchmarks).

    Checks the chain, its seals, the checkpoint file, adapters' lineages and the state
    kept outside the chain; `against` adds checkpoints a user kept elsewhere
    (`tether verify --against FILE`; raises `VerifyInputError` when unreadable).
    The raw header check is skipped where this process already has the file open
    (`check_header=False` says so outright; see `files.claim`).
    """
    extra = [(str(against), read_against(against))] if against is not None else None
    held = claim(path, check_header=check_header)
    try:
        conn = open_readonly(path)
        try:
            return verify_connection(conn, path, against=extra)
        finally:
            conn.close()
    finally:
        release(held)
