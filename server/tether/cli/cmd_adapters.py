"""`tether adapters`: the trained adapter versions, their metrics, and rollback."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from tether.cli.common import (
    add_workspace_args,
    db_path,
    fail,
    open_for_reading,
    settings_for,
    workspace_paths,
)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "adapters",
        help="list trained adapters and their eval metrics; roll back to an earlier one",
        description="Lists adapter versions (active, retired, refused) with the eval gate's "
        "numbers. `tether adapters rollback vN` makes vN active again (`base` for none); the "
        "switch is recorded in the decision log.",
    )
    add_workspace_args(parser)
    parser.add_argument("--json", action="store_true", help="print as JSON")
    parser.set_defaults(func=run, action=None)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    rollback = actions.add_parser("rollback", help="make an earlier adapter active again")
    rollback.add_argument("version", help="vN, or `base` for the model without an adapter")
    rollback.add_argument("--reason", help="why (kept in the decision log)")
    # SUPPRESS: options given after `rollback` must not reset those given before it.
    rollback.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the log row as JSON"
    )
    rollback.add_argument(
        "--workspace",
        "-w",
        type=Path,
        default=argparse.SUPPRESS,
        help="workspace folder (default: the current directory)",
    )
    rollback.add_argument(
        "--db",
        type=Path,
        default=argparse.SUPPRESS,
        help="path of the store (default: the workspace's)",
    )


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    from tether.decisions import DecisionStore, StoreError
    from tether.training import AdapterError, AdapterRegistry

    settings = settings_for(args)
    paths = workspace_paths(args, settings)
    stack = contextlib.AsyncExitStack()
    try:  # listing reads an empty store when nothing was recorded yet; rollback needs one
        if args.action == "rollback":
            opened = await DecisionStore.open(db_path(args), create=False)
            store = await stack.enter_async_context(opened)
        else:
            store = await stack.enter_async_context(open_for_reading(args))
    except StoreError as exc:
        return fail(str(exc))
    async with stack:
        registry = AdapterRegistry(store, paths)
        if args.action == "rollback":
            version = None if args.version in ("base", "none") else args.version
            try:
                record = await registry.rollback(version, reason=args.reason)
            except AdapterError as exc:
                return fail(str(exc))
            if args.json:
                print(json.dumps(record.model_dump(mode="json"), indent=2, ensure_ascii=False))
            else:
                print(f"active adapter: {version or 'none (base model)'} (log row {record.seq})")
            return 0
        rows = await registry.list()
    if args.json:
        print(json.dumps([r.model_dump(mode="json") for r in rows], indent=2, ensure_ascii=False))
        return 0
    if not rows:
        print("no adapters yet; `tether train` makes one from your decisions")
        return 0
    _table(rows)
    return 0


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _table(rows: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Tether adapters")
    for col in ("version", "status", "created", "parent", "method"):
        table.add_column(col, no_wrap=True)
    table.add_column("held-out score (candidate vs reference)")
    table.add_column("train/held-out", no_wrap=True)
    for r in rows:
        m = r.metrics
        metric = str(m.get("metric", "-")).replace("preference_accuracy", "accuracy")
        score = (
            f"{metric} {_fmt(m.get('candidate'))} vs {_fmt(m.get('reference'))} "
            f"({m.get('reference_name', '-')})"
        )
        held = (m.get("heldout_pairs") or 0) + (m.get("heldout_labels") or 0)
        table.add_row(
            r.version,
            r.status,
            r.created_at[:10],
            r.parent or "-",
            _fmt(m.get("method")),
            score,
            f"{_fmt(m.get('train_examples'))}/{held}",
        )
    Console().print(table)
