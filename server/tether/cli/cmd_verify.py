"""`tether verify`: the decision log against its hashes, seals and signed checkpoints.

Exit 0 when everything holds; 1 naming the first problem (the row, the kind of break, the
missing sequence numbers, the checkpoint that proves it) and listing the others; 2 when
there is no readable store or the `--against` file is not a checkpoint.
`--export-checkpoint` prints a signed checkpoint of the head (JSON) to keep somewhere else:
a git note, a team server; `--against FILE` checks the log against such a copy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

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
        help="check that the decision log has not been edited, cut short or reordered",
        description="Recompute every row's hash, link and seal, and check the log against "
        "its signed checkpoints, adapters' lineages and the state kept beside it (pins, "
        "proposal states, snapshots, memory). Exit 0 when all holds; 1 naming the first "
        "problem; 2 when there is no readable store.",
    )
    add_workspace_args(parser)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--against",
        type=Path,
        metavar="FILE",
        help="also check against checkpoint(s) kept elsewhere (from --export-checkpoint)",
    )
    parser.add_argument(
        "--export-checkpoint",
        action="store_true",
        help="verify, then print a signed checkpoint of the head as JSON (keep it elsewhere)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tether.decisions import StoreError, verify_file
    from tether.decisions.verify import VerifyInputError

    path = db_path(args)
    missing = no_store_yet(args)
    try:
        if missing is not None:  # nothing recorded yet: an empty chain holds
            hint_no_store(missing)
            if args.export_checkpoint:
                return fail("there is nothing to checkpoint yet: no decision was recorded")
            with empty_store_file() as empty:
                result = verify_file(empty, against=args.against)
        else:
            result = verify_file(path, against=args.against)
    except StoreError as exc:
        fail(str(exc))
        return 2
    except VerifyInputError as exc:
        fail(f"{exc}; give a file written by `tether verify --export-checkpoint`")
        return 2
    if args.export_checkpoint:
        return _export(path, result.ok, result.summary())
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
    fail(f"{path}: {result.summary()}")
    for problem in result.problems[1:]:
        where = f"row {problem.seq}: " if problem.seq is not None else ""
        print(f"  also: {where}{problem.kind}: {problem.detail}", file=sys.stderr)
    return 1


def _export(path: Path, ok: bool, summary: str) -> int:
    """A checkpoint of the current head (written now if the latest is older), only for a
    log that verifies: never vouch for a broken one."""
    from tether.decisions import DecisionStore, StoreError

    if not ok:
        return fail(f"{path}: {summary}; not exporting a checkpoint of a broken log")

    async def checkpoint() -> str:
        async with await DecisionStore.open(path, create=False) as store:
            cp = await store.checkpoint("manual")
            return json.dumps(cp.model_dump(mode="json"), indent=2)

    try:
        print(asyncio.run(checkpoint()))
    except (StoreError, OSError) as exc:
        return fail(f"cannot write a checkpoint for {path}: {exc}")
    return 0
