"""`tether demo`: the learning loop on an example workspace, with a simulated user.

Round 1 sends an "improve" request for most functions of the example workspace and lets a
simulated user (a benchmark persona) decide on what the policy shows; the profile is shown;
a training run turns those decisions into an adapter (or the gate refuses it, said
plainly); round 2 sends the held-out functions; one table compares the rounds. Everything
runs through `TetherService`, the language server's own code path.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from tether.config import Settings

#: Fewer held-out rows than this and one verdict swings the gate's metric by 20 points.
SMALL_HELDOUT = 5


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("demo", help="show the learning loop on an example workspace")
    p.add_argument(
        "--source", type=Path, default=Path("examples"), help="example workspace (./examples)"
    )
    p.add_argument("--workspace", type=Path, help="scratch workspace (default: a temp folder)")
    p.add_argument(
        "--persona",
        default="conservative",  # tether.demo.personas.DEFAULT (not imported: CLI start-up)
        help="simulated user: a built-in persona (modernizer, conservative, docstrings, "
        "pragmatist) or a persona file with judge()",
    )
    p.add_argument("--train-steps", type=int, default=24, help="training steps (0: skip)")
    p.add_argument(
        "--tasks",
        default="improve,document",
        help="tasks asked of each function (improve,document)",
    )
    p.add_argument(
        "--verifier-weight",
        type=float,
        default=1.0,
        help="how much a verifier pair counts in training (the demo trains on all of them)",
    )
    p.add_argument("--model", default=None, help="student model (default: embedded:smollm2)")
    p.add_argument("--home", type=Path, default=None, help="data root (default: a temp folder)")
    p.add_argument(
        "--json", type=Path, default=None, help="also write the rounds' figures to this file"
    )
    p.set_defaults(func=run)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f} %"


def _p50(seconds: list[float]) -> str:
    return f"{statistics.median(seconds):.1f} s" if seconds else "–"


async def _run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from tether.demo import personas
    from tether.demo.rounds import Event, Round, RoundStats, functions, split
    from tether.service import TetherService

    console = Console()
    # the live display is the demo's output: no model-loading progress bars in between
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    source = args.source.resolve()
    if not (source / "src").is_dir():
        console.print(f"[red]no example workspace with a src/ folder at {source}[/red] (--source)")
        return 1
    try:
        persona = personas.load(args.persona)
    except personas.PersonaUnavailable as exc:
        console.print(f"[red]{exc}[/red]")
        return 1
    workspace = args.workspace or Path(tempfile.mkdtemp(prefix="tether-demo-"))
    if workspace.exists() and any(workspace.iterdir()):
        console.print(f"[red]{workspace} is not empty[/red]; pick an empty --workspace")
        return 1
    shutil.copytree(source, workspace, dirs_exist_ok=True)
    home = args.home or Path(tempfile.mkdtemp(prefix="tether-demo-home-"))
    overrides: dict[str, Any] = {
        "home": str(home),
        "training": {
            "max_steps": max(args.train_steps, 1),
            "verifier_weight": args.verifier_weight,
        },
    }
    if args.model:
        overrides["model"] = args.model
    settings = Settings().overlay(overrides)
    tasks = tuple(t.strip() for t in args.tasks.split(",") if t.strip())
    round1, held = split(functions(workspace, tasks=tasks))
    console.rule("[bold]Tether demo")
    console.print(
        f"workspace {workspace}\nstudent   {settings.model}\npersona   {persona.name}\n"
        f"requests  {len(round1)} in round 1, {len(held)} held out for round 2\n"
    )

    def show(ev: Event) -> None:
        style = {"accept": "green", "correct": "yellow", "reject": "red"}.get(ev.verdict, "cyan")
        if ev.what == "no proposal":
            console.print(f"  [dim]{ev.request}[/dim]  no proposal — {ev.detail}")
            return
        verdict = f"[{style}]{ev.verdict or ev.what}[/{style}]"
        kind = f" [magenta]{ev.kind}[/magenta]" if ev.kind else ""
        console.print(f"  {ev.request}{kind}  {ev.what} → {verdict}  [dim]{ev.detail[:70]}[/dim]")

    service = await TetherService.open(workspace, settings)
    rounds: list[RoundStats] = []
    trained, training = "not run", None
    try:
        player = Round(service, persona, show)
        console.rule("Round 1: proposals and the simulated user's decisions")
        with console.status("round 1…"):
            rounds.append(await player.run(round1))
        _profile(console, await service.profile_view())
        if args.train_steps > 0:
            console.rule("Training on round 1's decisions")
            trained, training = await _train(console, service)
        console.rule("Round 2: held-out requests, with what was learned")
        with console.status("round 2…"):
            rounds.append(await player.run(held))
        result = await service.verify()
    finally:
        await service.close()

    table = Table("", "round 1 (before)", "round 2 (after)", title="Before and after training")
    rows = [
        ("requests", lambda s: str(s.requests)),
        (
            "verified proposals",
            lambda s: f"{s.verified} ({_pct(s.verified / s.requests if s.requests else None)})",
        ),
        ("prompts asked", lambda s: str(s.shown)),
        ("accepted by the persona", lambda s: f"{s.accepted} of {s.shown} ({_pct(s.acceptance)})"),
        ("applied on their own (auto)", lambda s: str(s.auto)),
        ("kept quiet", lambda s: str(s.quiet)),
        ("time to a proposal, p50", lambda s: _p50(s.seconds)),
    ]
    for name, cell in rows:
        table.add_row(name, *(cell(s) for s in rounds))
    console.print(table)
    console.print(f"training: {trained}")
    console.print(f"audit log: {result.summary()}")
    console.print(f"history: tether history -w {workspace}   (data root: {home})")
    if args.json:
        _write_json(args.json, persona.name, rounds, training, result.ok)
    return 0 if result.ok else 1


def _profile(console: Any, view: dict[str, Any]) -> None:
    from rich.table import Table

    console.rule("The profile after round 1")
    table = Table("class", "verdicts", "approval", "interval", "policy")
    for c in view.get("classes", []):
        table.add_row(
            c["class_key"],
            str(c["n"]),
            f"{c['mean']:.2f}",
            f"[{c['lower']:.2f}, {c['upper']:.2f}]",
            str(c["policy"]),
        )
    console.print(table)


async def _train(console: Any, service: Any) -> tuple[str, Any]:
    """Train now; say plainly what the gate decided."""
    try:
        with console.status("training…") as status:
            result = await service.train_now(
                lambda ev: status.update(f"training: {getattr(ev, 'message', ev)}")
            )
    except Exception as exc:  # the demo reports every failure plainly and goes on
        console.print(f"[yellow]training did not run[/yellow]: {exc}")
        return f"did not run ({exc})", None
    gate = result.gate
    numbers = (
        f"{gate.metric.replace('_', ' ')} {gate.candidate:.2f} vs {gate.reference_name} "
        f"{gate.reference:.2f}"
        if gate
        else ""
    )
    if result.status in ("promoted", "refused"):
        console.print(f"  {_evidence(result)}")
    if result.status == "promoted":
        took = f"{result.steps} steps, {result.seconds:.0f} s"
        line = f"adapter {result.version} promoted ({numbers}; {took})"
        console.print(f"[green]{line}[/green]")
    elif result.status == "refused":
        line = f"the gate refused adapter {result.version}: {gate.reason if gate else numbers}"
        console.print(f"[yellow]{line}[/yellow] — round 2 uses the base model")
    else:
        line = f"{result.status}: {result.reason}"
        console.print(f"[yellow]training {line}[/yellow]")
    return line, result


def _write_json(path: Path, persona: str, rounds: list[Any], training: Any, chain_ok: bool) -> None:
    """The figures of the before/after table, for benchmarks that run the demo."""
    import dataclasses
    import json

    data = {
        "persona": persona,
        "rounds": [
            {**dataclasses.asdict(r), "acceptance": r.acceptance, "p50_s": _median(r.seconds)}
            for r in rounds
        ],
        "training": training.model_dump(
            mode="json",
            include={
                "status",
                "reason",
                "version",
                "method",
                "gate",
                "train_examples",
                "heldout_examples",
                "steps",
                "seconds",
            },
        )
        if training is not None
        else None,
        "chain_ok": chain_ok,
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _median(seconds: list[float]) -> float | None:
    return statistics.median(seconds) if seconds else None


def _evidence(result: Any) -> str:
    """What the adapter learned from and what the gate judged it on, in words."""
    method = (result.method or "").upper()
    learned = f"{method} on {result.train_examples} examples from round 1's decisions"
    report = result.metrics
    if report is None:
        return learned
    pairs, labels = report.candidate.pairs, report.candidate.labels
    judged = f"judged on {pairs} held-out pair(s) and {labels} held-out verdict(s)"
    small = " (a small held-out set: read the gate's verdict as a rough one)"
    return f"{learned}; {judged}{small if pairs + labels < SMALL_HELDOUT else ''}"


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
