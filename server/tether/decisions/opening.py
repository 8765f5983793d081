"""Opening a store: refuse what is not ours, migrate, load the key, seal an upgraded store.

Nothing here ever overwrites a file Tether did not create: a foreign, corrupt or newer
store is refused with a message that says what to do.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path

import aiosqlite

from tether.core.types import utcnow
from tether.decisions.chain import head_seal_message, row_hash
from tether.decisions.errors import StoreError
from tether.decisions.files import claim, release
from tether.decisions.keys import (
    KEY_CHECK,
    KEY_CHECK_MESSAGE,
    StoreKey,
    StoreKeyError,
    key_path,
    load_key,
    load_or_create_key,
)
from tether.decisions.log import HASH_FUNCTION, HEAD_TRIGGER, SEAL_FUNCTION, ChainedLog
from tether.decisions.schema import APP_ID, GENESIS_HASH, MIGRATIONS, SCHEMA_VERSION
from tether.decisions.state import memory_seal_message

BUSY_TIMEOUT_MS = 30_000


async def open_log(path: Path, *, create: bool, checkpoint_every: int) -> ChainedLog:
    """Open (or create) the store at `path`, set up and migrated, as a chained log."""
    held = claim(path)
    try:
        if not path.exists():
            if not create:
                raise StoreError(f"no Tether store at {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = await aiosqlite.connect(
                path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {path}: {exc}") from exc
    except BaseException:
        release(held)
        raise
    chain = ChainedLog(path, conn, held)
    chain.checkpoint_every = max(1, checkpoint_every)
    try:
        await _prepare(chain)
    except BaseException:
        await chain.close()
        raise
    return chain


async def _prepare(chain: ChainedLog) -> None:
    try:
        version = await _inspect(chain.db, chain.path)
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"{chain.path} is corrupted or not a database ({exc}); Tether will not touch it."
            " Move it aside to start a new store."
        ) from exc
    db = chain.db
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA synchronous=FULL")
    await db.execute("PRAGMA foreign_keys=ON")
    chain.key = key = await asyncio.to_thread(_load_key, chain.path, version)
    await db.create_function(HASH_FUNCTION, 2, row_hash, deterministic=True)
    await db.create_function(SEAL_FUNCTION, 1, key.sealer(), deterministic=True)
    if version < SCHEMA_VERSION:
        await _migrate(chain, version)
    await db.execute(HEAD_TRIGGER)
    meta = dict(await db.execute_fetchall("SELECT key, value FROM meta"))
    if meta.get(KEY_CHECK) != key.seal(KEY_CHECK_MESSAGE):
        raise StoreError(
            f"{key_path(chain.path)} is not the key {chain.path} was sealed with (replaced?);"
            " restore the original key file from a backup"
        )
    chain.store_id = meta.get("store_id", "")
    latest = await asyncio.to_thread(chain.latest_checkpoint_quietly)
    chain.checkpointed = latest.seq if latest else 0


def _load_key(store: Path, version: int) -> StoreKey:
    """The store's key; created with a new store, or when an unsealed store is upgraded."""
    path = key_path(store)
    try:
        if version >= 2:
            key = load_key(path)
            if key is None:
                raise StoreError(
                    f"{store} is sealed with a key that is missing ({path}). Restore "
                    "that file from a backup: without it nobody can tell whether the log "
                    "was changed. To start over, move the store and its .checkpoints aside."
                )
            return key
        return load_or_create_key(path)
    except StoreKeyError as exc:
        raise StoreError(str(exc)) from exc


async def _inspect(db: aiosqlite.Connection, path: Path) -> int:
    """Schema version of an existing store (0 when new); refuse anything not ours."""
    await db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    tables = {
        r[0] for r in await db.execute_fetchall("SELECT name FROM sqlite_master WHERE type='table'")
    }
    if tables and "meta" not in tables:
        raise StoreError(
            f"{path} is a SQLite database that Tether did not create "
            f"(tables: {', '.join(sorted(tables))}); refusing to use or change it"
        )
    if "meta" not in tables:
        return 0
    meta = dict(await db.execute_fetchall("SELECT key, value FROM meta"))
    if meta.get("app") != APP_ID:
        raise StoreError(f"{path} belongs to another application; not touching it")
    version = int(meta.get("schema_version", 0))
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has schema {version}, newer than this Tether ({SCHEMA_VERSION});"
            " upgrade Tether"
        )
    check = await db.execute_fetchall("PRAGMA quick_check")
    if not check or check[0][0] != "ok":
        raise StoreError(f"{path} failed SQLite's integrity check: {check[0][0]}")
    return version


async def _migrate(chain: ChainedLog, current: int) -> None:
    async with chain.write() as db:
        # Re-read under the write lock: another process may have migrated meanwhile.
        has_meta = await db.execute_fetchall(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
        )
        if has_meta:
            rows = await db.execute_fetchall("SELECT value FROM meta WHERE key='schema_version'")
            current = int(rows[0][0]) if rows else 0
        for number in range(current, SCHEMA_VERSION):
            for statement in _split_sql(MIGRATIONS[number]):
                await db.execute(statement)
        await db.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('app', ?), ('schema_version', ?)",
            (APP_ID, str(SCHEMA_VERSION)),
        )
        await db.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('head_hash', ?), ('head_seq', '0'),"
            " ('created_at', ?)",
            (GENESIS_HASH, utcnow()),
        )
        if current < 2:
            await _seal_existing(db, chain.sealing())


async def _seal_existing(db: aiosqlite.Connection, key: StoreKey) -> None:
    """Upgrading to seals: seal what is there now (a new store: just the empty head)."""
    await db.execute(f"UPDATE decisions SET seal = {SEAL_FUNCTION}('row:' || seq || ':' || hash)")
    rows = await db.execute_fetchall(
        "SELECT id, kind, class_key, created_at, updated_at, votes, active, body FROM memory_items"
    )
    for row in rows:
        await db.execute(
            "UPDATE memory_items SET seal = ? WHERE id = ?",
            (key.seal(memory_seal_message(tuple(row))), row[0]),
        )
    last = await db.execute_fetchall("SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1")
    seq, digest = (last[0][0], last[0][1]) if last else (0, GENESIS_HASH)
    await db.execute("UPDATE meta SET value = ? WHERE key = ?", (digest, "head_hash"))
    await db.execute("UPDATE meta SET value = ? WHERE key = ?", (str(seq), "head_seq"))
    public_key = await asyncio.to_thread(lambda: key.public_key)
    await db.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES ('head_seal', ?), (?, ?), "
        "('store_id', coalesce((SELECT value FROM meta WHERE key = 'store_id'), ?)), "
        "('public_key', ?), ('key_id', ?)",
        (
            key.seal(head_seal_message(seq, digest)),
            KEY_CHECK,
            key.seal(KEY_CHECK_MESSAGE),
            uuid.uuid4().hex,
            public_key,
            key.key_id,
        ),
    )


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
