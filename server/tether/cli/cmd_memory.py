"""`tether memory`: list, edit and remove what the agent remembers (rules above all)."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from tether.cli.common import add_workspace_args, db_path, fail

KINDS = ("insight", "reflection", "exemplar")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "memory", help="list, edit or remove memory items (rules, reflections, exemplars)"
    )
    add_workspace_args(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="forget what decisions taught and learn it again from the decision log "
        "(your own rules stay; your edits of learnt items do not)",
    )
    parser.set_defaults(func=run, action="list", kind=None)
    sub = parser.add_subparsers(dest="action", metavar="ACTION")

    def common(p: argparse.ArgumentParser) -> None:
        # SUPPRESS: an option given before the action must survive the sub-parser's defaults
        p.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
        p.add_argument("--workspace", "-w", type=_path, default=argparse.SUPPRESS)
        p.add_argument("--db", type=_path, default=argparse.SUPPRESS)

    p = sub.add_parser("list", help="list memory items (rules first)")
    p.add_argument("--kind", choices=KINDS, default=argparse.SUPPRESS)
    common(p)
    p = sub.add_parser("edit", help="replace the text of a rule or reflection")
    p.add_argument("id", help="the item's id (or a unique prefix of 4+ characters)")
    p.add_argument("text", help="the new text")
    common(p)
    p = sub.add_parser("remove", help="remove a memory item")
    p.add_argument("id", help="the item's id (or a unique prefix of 4+ characters)")
    common(p)
    p = sub.add_parser("add", help="add a rule of your own (it goes into prompts at once)")
    p.add_argument("text", help="the rule")
    common(p)


def _path(s: str) -> Any:
    from pathlib import Path

    return Path(s)


def _text(row: Any) -> str:
    if row.kind == "exemplar":
        b = row.body
        return f"{b.get('decision')} {b.get('task')} on {b.get('path')}" + (
            f": {b['feedback']}" if b.get("feedback") else ""
        )
    return str(row.body.get("text", ""))


def _print_rows(rows: list[Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return
    if not rows:
        print("memory is empty")
        return
    order = {k: i for i, k in enumerate(KINDS)}
    for r in sorted(rows, key=lambda r: (order.get(r.kind, 9), -r.votes, r.created_at)):
        votes = f" votes={r.votes}" if r.kind == "insight" else ""
        cls = f" [{r.class_key}]" if r.class_key else ""
        print(f"{r.id}  {r.kind}{votes}{cls}  {_text(r)}")


async def _run(args: argparse.Namespace) -> int:
    from tether.decisions import DecisionStore, StoreError
    from tether.memory import Memory, MemoryItemError

    args.action = "rebuild" if getattr(args, "rebuild", False) else (args.action or "list")
    path = db_path(args)
    if not path.exists():
        if args.action == "list":
            _print_rows([], args.json)
            return 0
        return fail(f"no Tether store at {path}: nothing remembered yet")
    try:
        store = await DecisionStore.open(path, create=False)
    except StoreError as exc:
        return fail(str(exc))
    try:
        memory = Memory(store)
        try:
            if args.action == "list":
                _print_rows(await memory.items(args.kind), args.json)
                return 0
            if args.action == "rebuild":
                learnt = await memory.rebuild()
                rows = await memory.items()
                if args.json:
                    print(
                        json.dumps({"action": "rebuilt", "decisions": learnt, "items": len(rows)})
                    )
                else:
                    print(f"memory rebuilt from {learnt} decision(s): {len(rows)} item(s)")
                return 0
            if args.action == "edit":
                row = await memory.edit(args.id, args.text)
                verb = "edited"
            elif args.action == "add":
                row = await memory.add_rule(args.text)
                verb = "added"
            else:
                row = await memory.remove(args.id)
                verb = "removed"
        except MemoryItemError as exc:
            return fail(str(exc))
        if args.json:
            print(json.dumps({"action": verb, "item": row.model_dump(mode="json")}, indent=2))
        else:
            print(f"{verb} {row.kind} {row.id}: {_text(row)}")
        return 0
    finally:
        await store.close()


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
