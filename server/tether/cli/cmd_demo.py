"""`tether demo`: the whole loop, end to end, on the embedded model.

Copies an example workspace to a scratch folder, asks the agent for improvements to each
function, lets a scripted reviewer accept, reject (with a reason) or correct them the way
a user would in the editor, then shows the profile, verifies the audit log and trains an
adapter on the decisions just made. Everything goes through `TetherService`, the same
code path the language server uses, so the demo is an honest smoke test of the product.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tether.config import Settings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("demo", help="run the main loop end to end on the embedded model")
    p.add_argument(
        "--source",
        type=Path,
        default=Path("examples"),
        help="example workspace to copy (default: ./examples)",
    )
    p.add_argument("--workspace", type=Path, help="scratch workspace (default: a temp folder)")
    p.add_argument("--proposals", type=int, default=6, help="how many functions to ask about")
    p.add_argument("--train-steps", type=int, default=2, help="training steps (0: skip)")
    p.add_argument("--model", default=None, help="student model (default: embedded:smollm2)")
    p.set_defaults(func=run)


def _functions(path: Path) -> list[tuple[int, int, str]]:
    """(first line, last line, name) of each top-level function or method, zero-based."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno:
            found.append((node.lineno - 1, node.end_lineno - 1, node.name))
    return sorted(found)


def review(original: str, proposed: str) -> tuple[str, str | None]:
    """The scripted reviewer: what a careful user would do with this proposal.

    Returns ("accept", None), ("reject", reason) or ("correct", corrected_text).
    """
    try:
        ast.parse(proposed)
    except SyntaxError:
        return "reject", "it does not parse"
    old_defs = {n.name for n in ast.walk(ast.parse(original)) if isinstance(n, ast.FunctionDef)}
    new_defs = {n.name for n in ast.walk(ast.parse(proposed)) if isinstance(n, ast.FunctionDef)}
    if old_defs - new_defs:
        return "reject", "it renames or removes a function"
    if len(proposed.splitlines()) < len(original.splitlines()) // 2:
        return "reject", "it deletes too much"
    if "%" in proposed and "%" not in original:
        return "reject", "prefer f-strings to %-formatting"
    if "== None" in proposed:
        return "correct", proposed.replace("== None", "is None")
    return "accept", None


async def _run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.syntax import Syntax
    from rich.table import Table

    from tether.core.diff import unified
    from tether.core.text import replace_range
    from tether.core.types import Range
    from tether.service import ServiceError, TetherService

    console = Console()
    source = args.source.resolve()
    if not source.is_dir():
        console.print(f"[red]no example workspace at {source}[/red] (use --source DIR)")
        return 1
    workspace = args.workspace or Path(tempfile.mkdtemp(prefix="tether-demo-"))
    if workspace.exists() and any(workspace.iterdir()):
        console.print(f"[red]{workspace} is not empty[/red]; pick an empty --workspace")
        return 1
    shutil.copytree(source, workspace, dirs_exist_ok=True)
    overrides: dict[str, Any] = {"training": {"max_steps": max(args.train_steps, 1)}}
    settings = Settings().overlay(overrides)
    if args.model:
        settings = settings.overlay({"model": args.model})
    console.rule("[bold]Tether demo")
    console.print(f"workspace: {workspace}\nstudent:   {settings.model}\n")
    service = await TetherService.open(workspace, settings)
    counts = {"accept": 0, "reject": 0, "correct": 0, "none": 0}
    try:
        targets = [
            (path, span)
            for path in sorted((workspace / "src").rglob("*.py"))
            for span in _functions(path)
        ][: args.proposals]
        for path, (first, last, name) in targets:
            rel = path.relative_to(workspace).as_posix()
            lines = path.read_text(encoding="utf-8").split("\n")
            rng = Range.of(first, 0, last, len(lines[last]))
            console.print(f"[bold]Improve[/bold] {rel}:{first + 1} {name}() …")
            try:
                request = service.request_for(path.as_uri(), rng, "improve")
                outcome = await service.propose(request)
            except ServiceError as exc:
                counts["none"] += 1
                console.print(f"  [yellow]no proposal[/yellow]: {exc}")
                continue
            for planned in outcome.proposals:
                p = planned.proposal
                console.print(
                    f"  policy: [cyan]{planned.decision.mode}[/cyan] — "
                    f"{planned.decision.reason.splitlines()[0]}"
                )
                if planned.decision.mode != "ask":
                    continue
                diff = unified(p.original, p.proposed, p.path)
                console.print(Syntax(diff or "(no change)", "diff", theme="ansi_dark"))
                verdict, detail = review(p.original, p.proposed)
                counts[verdict] += 1
                if verdict == "reject":
                    await service.reject(p.id, detail)
                    console.print(f"  [red]rejected[/red]: {detail}")
                    continue
                plan = await service.plan_accept(p.id)
                text = path.read_text(encoding="utf-8")  # the demo is the editor here
                path.write_text(replace_range(text, p.range, plan.text), encoding="utf-8")
                await service.accept(plan)
                if verdict == "correct" and detail is not None:
                    await service.correct(p.id, detail)
                    console.print("  [yellow]accepted, then corrected[/yellow]")
                else:
                    console.print("  [green]accepted[/green]")
        await service.idle()

        console.rule("Profile")
        view = await service.profile_view()
        table = Table("class", "n", "mean", "interval", "policy")
        for c in view.get("classes", []):
            table.add_row(
                c["class_key"],
                str(c["n"]),
                f"{c['mean']:.2f}",
                f"[{c['lower']:.2f}, {c['upper']:.2f}]",
                str(c["policy"]),
            )
        console.print(table)

        result = await service.verify()
        console.rule("Audit log")
        console.print(result.summary())

        if args.train_steps > 0:
            console.rule("Training")
            try:
                trained = await service.train_now(
                    lambda ev: console.print(f"  {getattr(ev, 'message', ev)}")
                )
                console.print(f"result: {getattr(trained, 'summary', lambda: trained)()}")
            except Exception as exc:  # the demo reports every failure plainly
                console.print(f"[yellow]training did not run[/yellow]: {exc}")
    finally:
        await service.close()
    console.rule()
    console.print(
        f"{counts['accept']} accepted, {counts['correct']} corrected, "
        f"{counts['reject']} rejected, {counts['none']} without a proposal. "
        f"History: tether history -w {workspace}"
    )
    return 0 if result.ok else 1


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
