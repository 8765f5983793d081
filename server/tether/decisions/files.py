"""Store files on disk: refuse what is not SQLite, and know which ones this process holds.

Closing any descriptor of a file drops every POSIX lock this process holds on it, SQLite's
included, and then another process may delete the live WAL: so the raw header is read only
while no connection of this process has the file open, under the lock that claims it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from tether.decisions.errors import StoreError

SQLITE_MAGIC = b"SQLite format 3\x00"


def check_store_file(path: Path) -> None:
    """Refuse files that are not SQLite at all, before SQLite gets a chance to touch them.

    Only call this while no connection of this process has the file open (see `claim`).
    """
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb") as f:
        magic = f.read(len(SQLITE_MAGIC))
    if magic != SQLITE_MAGIC:
        raise StoreError(
            f"{path} is not a SQLite database (corrupted, or some other file); "
            "Tether will not touch it. Move it aside to start a new store."
        )


#: Store files this process has open through SQLite, by real path, with a count of holders.
_held: dict[str, int] = {}
_held_lock = threading.Lock()


def claim(path: Path, *, check_header: bool = True) -> str:
    """Note that this process is about to open `path`; check its header if nobody holds it."""
    key = os.path.realpath(path)
    with _held_lock:
        if check_header and not _held.get(key):
            check_store_file(path)
        _held[key] = _held.get(key, 0) + 1
    return key


def release(key: str) -> None:
    with _held_lock:
        count = _held.get(key, 0) - 1
        if count > 0:
            _held[key] = count
        else:
            _held.pop(key, None)
