"""`tether history`: the decision log, newest first, filtered; a table or JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tether.cli.common import add_workspace_args, db_path, fail, hint_no_store, settings_for
from tether.core.messages import no_store
from tether.core.types import Actor, Outcome

if TYPE_CHECKING:
    from rich.table import Table

    from tether.decisions import DecisionRecord, HistoryPage

OUTCOMES = [o.value for o in Outcome]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "history",
        help="show the decision log (newest first), filtered",
        description="Every decision recorded for the workspace, newest first: who decided, "
        "what, on which proposal, and why. Filters combine (all must match).",
    )
    add_workspace_args(parser)
    parser.add_argument("--json", action="store_true", help="print {items, total} as JSON")
    parser.add_argument(
        "--limit", type=_limit, default=50, metavar="N", help="rows to show, 1-1000 (default 50)"
    )
    parser.add_argument(
        "--offset", type=_offset, default=0, metavar="N", help="newest rows to skip (default 0)"
    )
    parser.add_argument(
        "--since",
        type=_timestamp,
        metavar="ISO",
        help="only rows at or after this time (e.g. 2025-01-31 or 2025-01-31T09:00)",
    )
    parser.add_argument(
        "--until", type=_timestamp, metavar="ISO", help="only rows before this time"
    )
    parser.add_argument("--path", help="a workspace-relative file, or a folder ending in /")
    parser.add_argument("--class", dest="class_key", metavar="KEY", help="a decision class")
    parser.add_argument(
        "--outcome",
        action="append",
        type=_outcomes,
        metavar="OUTCOME",
        help=f"repeat or comma-separate: {', '.join(OUTCOMES)}",
    )
    parser.add_argument("--actor", choices=[a.value for a in Actor], help="who decided")
    parser.add_argument("--model", help="the model that made the proposal, e.g. embedded:smollm2")
    parser.add_argument("--adapter", metavar="VERSION", help="the adapter version, e.g. v3")
    parser.add_argument("--proposal", metavar="ID", help="one proposal's rows")
    parser.add_argument("--search", metavar="TEXT", help="text in path, class, reason or texts")
    parser.set_defaults(func=run)


def _limit(value: str) -> int:
    n = _int(value)
    if not 1 <= n <= 1000:
        raise argparse.ArgumentTypeError(f"must be between 1 and 1000, not {n}")
    return n


def _offset(value: str) -> int:
    n = _int(value)
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {n}")
    return n


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None


def _timestamp(value: str) -> str:
    """An ISO date or time, normalised to the store's UTC ISO text (local time if naive)."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO date or time: {value!r} (e.g. 2025-01-31 or 2025-01-31T09:00)"
        ) from None
    if when.tzinfo is None:
        when = when.astimezone()
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def _outcomes(value: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    bad = [n for n in names if n not in OUTCOMES]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"unknown outcome {', '.join(bad) or repr(value)} (one of: {', '.join(OUTCOMES)})"
        )
    return names


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    from tether.decisions import HistoryFilter, HistoryPage, StoreError
    from tether.service import ServiceError, TetherService

    settings = settings_for(args)
    explicit = getattr(args, "db", None)
    outcomes = [o for group in args.outcome or [] for o in group] or None
    flt = HistoryFilter(
        since=args.since,
        until=args.until,
        path=args.path,
        class_key=args.class_key,
        outcome=outcomes,
        actor=args.actor,
        model=args.model,
        adapter_version=args.adapter,
        proposal_id=args.proposal,
        search=args.search,
    )
    try:
        service = await TetherService.open(
            args.workspace, settings, db=Path(explicit) if explicit else None, create=False
        )
    except StoreError as exc:
        if explicit or "no Tether store" not in str(exc):
            return fail(str(exc))
        page = HistoryPage(items=[], total=0, offset=args.offset, limit=args.limit)
        if args.json:  # stdout stays well-formed JSON; the hint goes to stderr
            hint_no_store(db_path(args))
        return _show(args, page, no_store(str(db_path(args))).text())
    try:
        page = await service.history(flt, offset=args.offset, limit=args.limit)
    except (ServiceError, StoreError) as exc:
        return fail(str(exc))
    finally:
        await service.close()
    return _show(args, page, "No decisions match." if page.total == 0 else None)


def _show(args: argparse.Namespace, page: HistoryPage, empty: str | None) -> int:
    if args.json:
        print(json.dumps(page.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return 0
    from rich.console import Console

    console = Console(highlight=False)
    if empty:
        console.print(empty)
        return 0
    console.print(_table(page.items))
    shown_to = page.offset + len(page.items)
    console.print(
        f"rows {page.offset + 1}-{shown_to} of {page.total}, newest first"
        + (f"; --offset {shown_to} for more" if shown_to < page.total else "")
    )
    return 0


def _table(items: list[DecisionRecord]) -> Table:
    from rich.table import Table

    table = Table(show_lines=False, header_style="bold")
    for name, kwargs in (
        ("seq", {"justify": "right"}),
        ("when", {}),
        ("outcome", {}),
        ("by", {}),
        ("class", {"overflow": "fold"}),
        ("path", {"overflow": "fold"}),
        ("proposal", {}),
        ("detail", {"overflow": "fold"}),
    ):
        table.add_column(name, **kwargs)
    for r in items:
        table.add_row(
            str(r.seq),
            _when(r.ts),
            r.outcome.value,
            r.actor.value,
            r.class_key or "",
            r.path or "",
            (r.proposal_id or "")[:8],
            _detail(r),
        )
    return table


def _when(ts: str) -> str:
    try:
        return datetime.fromisoformat(ts).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return ts


def _detail(r: DecisionRecord) -> str:
    parts: list[str] = []
    if r.reason:
        parts.append(r.reason)
    if r.hunks is not None:
        parts.append(f"hunks {', '.join(str(h + 1) for h in r.hunks)}")
    if r.outcome in (Outcome.CORRECTED, Outcome.REWRITTEN) and r.after:
        first = r.after.strip().splitlines()[0] if r.after.strip() else ""
        parts.append(f"→ {first[:60]}")
    if r.outcome is Outcome.PINNED:
        parts.append(f"pin {r.data.get('mode') or 'removed'}")
    if r.model and r.outcome is Outcome.PROPOSED:
        parts.append(r.model + (f" + {r.adapter_version}" if r.adapter_version else ""))
    text = "; ".join(parts)
    return text if len(text) <= 120 else text[:119] + "…"
