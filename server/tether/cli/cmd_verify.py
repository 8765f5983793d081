"""`tether verify`: recompute the decision log's hash chain; name the first broken row."""

from __future__ import annotations

import argparse
import json

from tether.cli.common import (
    add_workspace_args,
    db_path,
    empty_store_file,
    fail,
    hint_no_store,
    no_store_yet,
)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "verify",
        help="check that the decision log has not been edited, deleted from or reordered",
        description="Recompute every row's hash and its link to the previous row. Exit 0 "
        "when the chain holds; 1 naming the first broken row when it does not; 2 when there "
        "is no readable store.",
    )
    add_workspace_args(parser)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tether.decisions import StoreError, verify_file

    path = db_path(args)
    missing = no_store_yet(args)
    try:
        if missing is not None:  # nothing recorded yet: an empty chain holds
            hint_no_store(missing)
            with empty_store_file() as empty:
                result = verify_file(empty)
        else:
            result = verify_file(path)
    except StoreError as exc:
        fail(str(exc))
        return 2
    if args.json:
        print(
            json.dumps(
                {**result.model_dump(mode="json"), "summary": result.summary(), "db": str(path)},
                indent=2,
            )
        )
        return 0 if result.ok else 1
    if result.ok:
        print(f"{path}: {result.summary()}")
        return 0
    return fail(f"{path}: {result.summary()}")
