"""`tether lsp`: the language server editors start (stdio; `--tcp HOST:PORT` to debug)."""

from __future__ import annotations

import argparse
import re

from tether.cli.common import fail


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "lsp",
        help="run the language server (editors start this)",
        description="Run the Tether language server over stdio, or over TCP for debugging.",
    )
    parser.add_argument(
        "--tcp",
        metavar="HOST:PORT",
        help="listen on HOST:PORT instead of stdio (for attaching a debugging client)",
    )
    parser.add_argument(
        "--stdio",
        action="store_true",
        help="use stdio (the default; accepted because some editors always pass it)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.tcp and not re.fullmatch(r"[^:\s]*:\d{1,5}", args.tcp):
        return fail(f"--tcp wants HOST:PORT (for example 127.0.0.1:2087), not {args.tcp!r}")
    from tether.lsp.codecache import import_cached

    import_cached("lsprotocol.types")  # before pygls imports it: reuses attrs' compiled code
    from tether.lsp.server import serve

    return serve(tcp=args.tcp)
