"""`tether review`: the decisions made through `tether serve`, and settling them.

Without arguments it lists the production decisions awaiting review and the tally the
profile keeps apart (pending / confirmed / overturned / discarded); with `SEQ ACTION` it
confirms, overturns or discards one. Only reviewed decisions become training signal.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from tether.cli.common import add_workspace_args, db_path, fail


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "review",
        help="review decisions made through tether serve (only reviewed ones teach)",
        description="Lists production decisions awaiting review, or settles one: "
        "`tether review 42 confirm` (the verdict becomes yours), `overturn` (the opposite "
        "verdict becomes yours) or `discard` (nothing is learnt).",
    )
    add_workspace_args(parser)
    parser.add_argument("seq", type=int, nargs="?", help="the production decision's row")
    parser.add_argument("action", nargs="?", choices=["confirm", "overturn", "discard"])
    parser.add_argument("--reason", help="why (kept with the review)")
    parser.add_argument(
        "--savings",
        action="store_true",
        help="also show what the local student saved against the configured teacher",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if (args.seq is None) != (args.action is None):
        return fail("give both the row and the action (confirm, overturn or discard), or neither")
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    from tether.decisions import DecisionStore, StoreError
    from tether.publish import production

    try:
        store = await DecisionStore.open(db_path(args), create=False)
    except StoreError as exc:
        return fail(str(exc))
    async with store:
        if args.seq is not None:
            try:
                rows = await production.review(store, args.seq, args.action, reason=args.reason)
            except production.ProductionError as exc:
                return fail(str(exc))
            if args.json:
                print(json.dumps([r.model_dump(mode="json") for r in rows]))
            else:
                print(
                    f"row {args.seq}: {args.action}ed; recorded "
                    + ", ".join(f"{r.outcome.value} (row {r.seq})" for r in rows)
                )
            return 0
        items = await production.pending(store)
        counts = await production.counts(store)
        saved = None
        if args.savings:
            from tether.cli.common import settings_for
            from tether.publish.savings import savings

            saved = await savings(store, settings_for(args).teacher)
    if args.json:
        print(
            json.dumps(
                {
                    "pending": [i.model_dump(mode="json") for i in items],
                    "counts": counts.model_dump(mode="json"),
                    "savings": saved.model_dump(mode="json") if saved else None,
                }
            )
        )
        return 0
    print(
        f"production decisions: {counts.pending} awaiting review, {counts.confirmed} confirmed, "
        f"{counts.overturned} overturned, {counts.discarded} discarded"
    )
    for item in items:
        text = f" -> {item.text!r}" if item.text else ""
        why = f" ({item.reason})" if item.reason else ""
        print(
            f"  row {item.seq}  {item.verdict}{text}{why}  {item.path}  "
            f"proposal {item.proposal_id[:8]}  by {item.token_id}"
        )
    if items:
        print("settle one with: tether review ROW confirm|overturn|discard")
    if saved is not None:
        print(saved.summary())
    return 0
