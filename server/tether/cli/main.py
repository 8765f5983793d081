"""Entry point of the `tether` command.

Subcommands are discovered: every `tether.cli.cmd_*` module exposes
`register(subparsers) -> None`, adding one parser whose `func(args) -> int` runs it.
Modules import their heavy dependencies inside `func`, so `tether --help` stays fast.

When the command line names a subcommand, only that module is imported: editors start
`tether lsp` on every launch, and importing every other subcommand (and what their module
level pulls in: settings, pydantic…) would sit between the editor and `initialize`.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from tether import __version__

PREFIX = "cmd_"


def subcommand_modules() -> list[str]:
    """Names of the subcommands (`cmd_<name>.py`), found without importing them."""
    import tether.cli as cli_pkg

    return sorted(
        info.name[len(PREFIX) :]
        for info in pkgutil.iter_modules(cli_pkg.__path__)
        if info.name.startswith(PREFIX)
    )


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or (with `only`) one holding just that subcommand."""
    parser = argparse.ArgumentParser(
        prog="tether",
        description="Tether: a learning coding agent for editors.",
    )
    parser.add_argument("--version", action="version", version=f"tether {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in [only] if only is not None else subcommand_modules():
        importlib.import_module(f"tether.cli.{PREFIX}{name}").register(sub)
    return parser


def _named_subcommand(argv: Sequence[str]) -> str | None:
    """The subcommand the command line names, when it is the first argument and exists."""
    if not argv or argv[0].startswith("-"):
        return None
    name = argv[0]
    return name if name.replace("-", "_") == name and name in subcommand_modules() else None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_named_subcommand(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
