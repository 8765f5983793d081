"""Learning benchmark: simulated users decide N proposals through the server's own code.

Each proposal goes through `TetherService.propose` (agent with the replay provider,
classes, memory context, the store, the profile's policy), exactly as the LSP server runs
it; only the user is simulated. What the policy decides is acted on the way the server
does: `auto` is applied without asking (an `auto_applied` row, actor policy), `quiet` is
suppressed, `ask` is shown to the persona, whose verdict is recorded. The persona's verdict
is computed for every proposal, shown or not, so the automatic decisions can be scored.
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.personas import Persona, PersonaProposal, Verdict, load_persona
from bench.rewrites import Rewrite, stdlib_root, stream

#: One task per rewrite kind, with the instruction the agent would be given.
TASK_INSTRUCTIONS: dict[str, str] = {
    "fstring": "Use f-strings instead of % formatting.",
    "printf-format": "Use %-formatting for strings.",
    "compare-idiom": "Use idiomatic comparisons (is None, not in, type(x) is T).",
    "eq-none": "Compare with None using ==.",
    "pathlib": "Use pathlib instead of os.path.",
    "docstring": "Add a docstring.",
    "type-hints": "Add type hints.",
    "dead-code": "Delete dead code.",
    "rename-test": "Give tests snake_case names.",
    "keyword-only": "Make optional parameters keyword-only.",
}


@dataclass
class Step:
    """One proposal's fate: what the policy did and what the persona thought of it."""

    index: int
    task: str
    path: str
    class_key: str
    mode: str  # auto | ask | quiet | failed
    override: str | None
    predicted: float | None  # the policy's predicted approval (numbers['predicted'])
    verdict: str  # accept | reject | correct (what the persona would do)
    label: float  # 1 accept, 0.5 correct, 0 reject
    same_text: bool  # the agent's proposal equals the rewrite (parsing kept it intact)


def workspace_spec() -> str:
    """tether.toml for the benchmark workspace: one task per rewrite kind."""
    lines = ["[agent]", 'name = "bench"', ""]
    for name, instruction in TASK_INSTRUCTIONS.items():
        lines += [f'[agent.tasks."{name}"]', f"instruction = {json.dumps(instruction)}", ""]
    return "\n".join(lines)


def write_replay(rewrites: Sequence[Rewrite], path: Path) -> None:
    """The model's answers, in order, keyed by task and path (the replay provider's format)."""
    from tether.core.response_format import render_completion

    with path.open("w", encoding="utf-8") as f:
        for rw in rewrites:
            entry = {
                "task": rw.task,
                "path": rw.path,
                "completion": render_completion(rw.proposed, "python", f"{rw.task}"),
            }
            f.write(json.dumps(entry) + "\n")


async def run_persona(
    persona: Persona,
    rewrites: Sequence[Rewrite],
    *,
    workdir: Path,
    seed: int = 0,
    root: Path | None = None,
) -> list[Step]:
    """Replay the stream for one persona in a fresh workspace and store."""
    from tether.agent import AgentRequest
    from tether.config import Settings
    from tether.core.types import Range
    from tether.service import TetherService

    root = root or stdlib_root()
    workspace = workdir / f"ws-{persona.name}"
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "tether.toml").write_text(workspace_spec())
    replay = workdir / f"replay-{persona.name}.jsonl"
    write_replay(rewrites, replay)
    settings = Settings(model=f"replay:{replay}", home=workdir / "home")
    service = await TetherService.open(workspace, settings)
    service.rng = random.Random(seed)  # the exploration draws: same run, same numbers
    texts: dict[str, str] = {}
    steps: list[Step] = []
    try:
        for i, rw in enumerate(rewrites):
            if rw.path not in texts:
                texts[rw.path] = (root / rw.path).read_text(encoding="utf-8")
            req = AgentRequest(
                uri=(workspace / rw.path).as_uri(),
                path=rw.path,
                language="python",
                text=texts[rw.path],
                version=None,
                range=Range.of(rw.start_line, 0, rw.end_line, 0),
                task=rw.task,
            )
            outcome = await service.propose(req)
            if not outcome.proposals:
                steps.append(
                    Step(i, rw.task, rw.path, "", "failed", None, None, "reject", 0.0, False)
                )
                continue
            planned = outcome.proposals[0]
            proposal, decision = planned.proposal, planned.decision
            verdict = persona(PersonaProposal.of(proposal, i))
            await act(service, proposal.id, decision, verdict)
            await service.idle()
            steps.append(
                Step(
                    index=i,
                    task=rw.task,
                    path=rw.path,
                    class_key=proposal.class_key,
                    mode=decision.mode,
                    override=decision.override,
                    predicted=float(decision.numbers["predicted"]),
                    verdict=verdict.kind,
                    label=verdict.approves,
                    same_text=proposal.proposed.rstrip("\n") == rw.proposed.rstrip("\n"),
                )
            )
    finally:
        await service.close()
    return steps


async def act(service: Any, proposal_id: str, decision: Any, verdict: Verdict) -> None:
    """Do what the editor and the user would: the policy's auto, or the persona's verdict."""
    if decision.mode == "quiet":
        return  # the service already recorded it as suppressed
    if decision.mode == "auto":
        plan = await service.plan_accept(proposal_id)
        await service.accept(plan, decision=decision)
        if verdict.kind == "correct":  # the user fixes the applied text in the window
            await service.correct(proposal_id, verdict.text)
        return
    if verdict.kind == "reject":
        await service.reject(proposal_id, verdict.reason)
        return
    plan = await service.plan_accept(proposal_id)
    await service.accept(plan)
    if verdict.kind == "correct":
        await service.correct(proposal_id, verdict.text)


# ---------------------------------------------------------------------- metrics
def brier(steps: Sequence[Step]) -> float | None:
    scored = [(s.predicted, s.label) for s in steps if s.predicted is not None]
    if not scored:
        return None
    return sum((p - y) ** 2 for p, y in scored) / len(scored)


def ece(steps: Sequence[Step], bins: int = 10) -> float | None:
    """Expected calibration error: |mean prediction - mean outcome| per bin, weighted.

    Equal-width bins, each weighted by its share of the decisions. Every proposal counts,
    shown or not: the simulated user's verdict is known for all of them, so auto-applied and
    suppressed proposals are scored too (a stricter test than scoring only the asked ones).
    The prediction is the policy's own (`numbers["predicted"]`): the posterior mean the
    decision rested on, which is the recent one when drift was detected.
    """
    scored = [(s.predicted, s.label) for s in steps if s.predicted is not None]
    if not scored:
        return None
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [(p, y) for p, y in scored if lo <= p < hi or (b == bins - 1 and p == 1.0)]
        if inside:
            gap = abs(sum(p for p, _ in inside) - sum(y for _, y in inside)) / len(inside)
            total += gap * len(inside) / len(scored)
    return total


def window_metrics(steps: Sequence[Step]) -> dict[str, Any]:
    n = len(steps)
    modes = Counter(s.mode for s in steps)
    auto = [s for s in steps if s.mode == "auto"]
    quiet = [s for s in steps if s.mode == "quiet"]
    return {
        "decisions": n,
        "prompt_rate": modes["ask"] / n if n else None,
        "auto_rate": modes["auto"] / n if n else None,
        "quiet_rate": modes["quiet"] / n if n else None,
        "auto_accuracy": sum(s.verdict == "accept" for s in auto) / len(auto) if auto else None,
        "false_auto_rate": sum(s.verdict == "reject" for s in auto) / len(auto) if auto else None,
        "missed_by_quiet": (
            sum(s.verdict != "reject" for s in quiet) / len(quiet) if quiet else None
        ),
        "brier": brier(steps),
        "ece": ece(steps),
    }


def persona_metrics(steps: Sequence[Step], window: int) -> dict[str, Any]:
    auto = [s for s in steps if s.mode == "auto"]
    first_auto = next((s.index + 1 for s in steps if s.mode == "auto"), None)
    tail = steps[-min(len(steps), 100) :]
    curve = [
        dict(window_metrics(steps[i : i + window]), start=i + 1, end=min(i + window, len(steps)))
        for i in range(0, len(steps), window)
    ]
    overall = window_metrics(steps)
    last = window_metrics(tail)
    return {
        "decisions": len(steps),
        "failed_proposals": sum(s.mode == "failed" for s in steps),
        "text_mismatch": sum(not s.same_text for s in steps if s.mode != "failed"),
        "verdicts": dict(Counter(s.verdict for s in steps)),
        "modes": dict(Counter(s.mode for s in steps)),
        "overrides": dict(Counter(s.override for s in steps if s.override)),
        "classes": len({s.class_key for s in steps if s.class_key}),
        "first_auto_at": first_auto,
        "auto_decisions": len(auto),
        "false_auto": sum(s.verdict == "reject" for s in auto),
        "overall": overall,
        "last_100": last,
        "prompt_reduction_last_100": (1 - last["prompt_rate"])
        if last["prompt_rate"] is not None
        else None,
        "curve": curve,
    }


@dataclass
class LearningRun:
    persona: str
    path: str
    seconds: float
    metrics: dict[str, Any]
    steps: list[Step]


async def run_learning(
    persona_specs: Sequence[str | Path],
    *,
    decisions: int = 400,
    seed: int = 0,
    window: int = 50,
    workdir: Path | None = None,
) -> list[LearningRun]:
    rewrites = stream(decisions, seed=seed)
    runs = []
    with tempfile.TemporaryDirectory(prefix="tether-bench-learning-") as tmp:
        base = workdir or Path(tmp)
        for spec in persona_specs:
            persona = load_persona(spec)
            persona.configure(drift_at=decisions // 2)
            t0 = time.perf_counter()
            steps = await run_persona(persona, rewrites, workdir=base, seed=seed)
            runs.append(
                LearningRun(
                    persona.name,
                    str(persona.path),
                    time.perf_counter() - t0,
                    persona_metrics(steps, window),
                    steps,
                )
            )
    return runs


def run(
    persona_specs: Sequence[str | Path], *, decisions: int = 400, seed: int = 0, window: int = 50
) -> list[LearningRun]:
    return asyncio.run(run_learning(persona_specs, decisions=decisions, seed=seed, window=window))


def steps_json(steps: Sequence[Step]) -> list[dict[str, Any]]:
    return [asdict(s) for s in steps]
