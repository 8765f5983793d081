"""`tether export`: your decisions as a JSONL corpus (DPO, KTO, SFT, Alpaca, ShareGPT, ChatML)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from pathlib import Path

from tether.cli.common import add_workspace_args, fail, open_for_reading, settings_for
from tether.core.formats import EXPORT_FORMATS


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "export",
        help="export your decisions as a training corpus (JSONL)",
        description="Writes one JSON object per line, duplicates removed and secrets "
        "redacted. dpo/kto are TRL's preference formats; sft, alpaca, sharegpt and chatml "
        "hold only what you accepted or wrote yourself.",
    )
    add_workspace_args(parser)
    parser.add_argument("--format", "-f", choices=EXPORT_FORMATS, required=True)
    parser.add_argument("--output", "-o", required=True, help="output file, or - for stdout")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    from tether.decisions import StoreError
    from tether.publish.export import export, load_clean, rows_for, summarize
    from tether.training.redaction import RedactorMissing

    settings = settings_for(args)
    stack = contextlib.AsyncExitStack()
    try:
        store = await stack.enter_async_context(open_for_reading(args))
    except StoreError as exc:
        return fail(str(exc))
    try:
        async with stack:
            if args.output == "-":
                data = await load_clean(store, settings.training)
                rows = rows_for(args.format, data, threshold=settings.training.dedupe_threshold)
                for row in rows:
                    sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
                summary = summarize(args.format, "-", len(rows), data)
            else:
                summary = await export(store, args.format, Path(args.output), settings.training)
    except RedactorMissing as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot write {args.output}: {exc.strerror or exc}")
    if args.json:
        print(
            json.dumps(summary.model_dump(), indent=2),
            file=sys.stderr if args.output == "-" else sys.stdout,
        )
    else:
        print(
            f"{summary.rows} {summary.format} rows written to {summary.path} "
            f"({summary.user_signals} of your decisions' signals, {summary.verifier_pairs} "
            f"verifier pairs; {summary.duplicates_removed} duplicates removed, "
            f"{summary.redactions} secrets redacted)",
            file=sys.stderr,
        )
    return 0
