"""Helpers shared by subcommands: finding the workspace, its store, loading settings."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tether.config import ConfigError, Settings, load_settings
from tether.paths import WorkspacePaths


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
