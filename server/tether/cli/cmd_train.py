"""`tether train`: train an adapter from your decisions now (the CLI's "Train now")."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from tether.cli.common import add_workspace_args, db_path, fail, settings_for, workspace_paths


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "train",
        help="train a LoRA adapter from your decisions now, and promote it if it is better",
        description="Builds DPO/KTO data from the decision log, trains a LoRA adapter in a "
        "child process, judges it on held-out decisions against the active adapter, and "
        "promotes or refuses it (both are recorded in the decision log).",
    )
    add_workspace_args(parser)
    parser.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    parser.add_argument(
        "--force",
        action="store_true",
        help="train even when there is nothing new since the newest adapter",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    from tether.decisions import DecisionStore, StoreError
    from tether.training import TrainingBusy, TrainingManager, describe

    if args.max_steps is not None and args.max_steps < 1:
        return fail("--max-steps must be at least 1")
    settings = settings_for(args)
    paths = workspace_paths(args, settings)
    try:
        store = await DecisionStore.open(db_path(args), create=False)
    except StoreError as exc:
        return fail(str(exc))
    async with store:
        manager = TrainingManager(store, paths, settings)
        try:
            if args.json:
                result = await manager.train_now(max_steps=args.max_steps, force=args.force)
            else:
                result = await _with_progress(manager, args.max_steps, args.force)
        except TrainingBusy as exc:
            return fail(str(exc))
    if args.json:
        print(json.dumps(result.model_dump(mode="json"), indent=2, ensure_ascii=False))
    else:
        print(describe(result))
        if result.seconds_per_step:
            steps = f"{result.steps} step" + ("" if result.steps == 1 else "s")
            print(f"{steps} on {result.device}, {result.seconds_per_step:.2f} s/step")
    return 1 if result.status in ("failed", "cancelled") else 0


async def _with_progress(manager: Any, max_steps: int | None, force: bool = False) -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from tether.training.models import ProgressEvent

    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[loss]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=not sys.stderr.isatty()) as progress:
        task = progress.add_task("preparing", total=None, loss="")

        def show(event: ProgressEvent) -> None:
            fields: dict[str, Any] = {"description": event.message or event.phase or event.event}
            if event.total:
                fields["total"] = event.total
            if event.step is not None:
                fields["completed"] = event.step
            if event.loss is not None:
                fields["loss"] = f"loss {event.loss:.4f}"
            progress.update(task, **fields)

        return await manager.train_now(show, max_steps=max_steps, force=force)
