"""Helpers shared by subcommands: finding the workspace, its store, loading settings."""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from tether.config import ConfigError, Settings, load_settings
from tether.paths import WorkspacePaths

if TYPE_CHECKING:
    from tether.decisions import DecisionStore


def add_workspace_args(parser: argparse.ArgumentParser, *, db: bool = True) -> None:
    parser.add_argument(
        "--workspace",
        "-w",
        type=Path,
        default=Path.cwd(),
        help="workspace folder (default: the current directory)",
    )
    if db:
        parser.add_argument("--db", type=Path, help="path of the store (default: the workspace's)")


def settings_for(args: argparse.Namespace) -> Settings:
    try:
        return load_settings(args.workspace)
    except ConfigError as exc:
        fail(str(exc))
        raise SystemExit(2) from None


def workspace_paths(args: argparse.Namespace, settings: Settings | None = None) -> WorkspacePaths:
    settings = settings or settings_for(args)
    return WorkspacePaths(args.workspace, settings.data_root)


def db_path(args: argparse.Namespace) -> Path:
    if getattr(args, "db", None):
        return Path(args.db)
    return workspace_paths(args).db


def fail(message: str) -> int:
    print(f"tether: error: {message}", file=sys.stderr)
    return 1


def no_store_yet(args: argparse.Namespace) -> Path | None:
    """The workspace's store path when it does not exist yet (None when it does, or when
    --db named a file: a missing explicit file is a mistake worth an error)."""
    if getattr(args, "db", None):
        return None
    path = db_path(args)
    return None if path.exists() else path


def hint_no_store(path: Path) -> None:
    """One line on stderr for a newcomer's first command: nothing recorded yet, and where."""
    from tether.core.messages import no_store

    print(no_store(str(path)).text(), file=sys.stderr)


@contextlib.contextmanager
def empty_store_file() -> Iterator[Path]:
    """A new, empty store in a temporary folder: read-only views of a workspace with no
    decisions yet run their normal code on it, so their output is well-formed by construction
    (nothing is created in the data root)."""
    import asyncio

    from tether.decisions import DecisionStore

    async def create(path: Path) -> None:
        store = await DecisionStore.open(path, create=True)
        await store.close()

    with tempfile.TemporaryDirectory(prefix="tether-empty-") as tmp:
        path = Path(tmp) / "tether.db"
        asyncio.run(create(path))
        yield path


@contextlib.asynccontextmanager
async def open_for_reading(args: argparse.Namespace) -> AsyncIterator[DecisionStore]:
    """The workspace's store, or (with a hint) an empty one when nothing was recorded yet.

    Raises StoreError for a store that exists but cannot be read.
    """
    from tether.decisions import DecisionStore

    missing = no_store_yet(args)
    if missing is None:
        async with await DecisionStore.open(db_path(args), create=False) as store:
            yield store
        return
    hint_no_store(missing)
    with tempfile.TemporaryDirectory(prefix="tether-empty-") as tmp:
        async with await DecisionStore.open(Path(tmp) / "tether.db", create=True) as store:
            yield store
