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

from bench import baselines
from bench.kinds import kind_of
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
    kind: str = ""  # the kind of change (bench.kinds), whether or not the class key has it


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
                "kind": kind_of(rw),
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
    parts: Sequence[str] | None = None,
) -> list[Step]:
    """Replay the stream for one persona in a fresh workspace and store.

    `parts`: the class key's parts (`classes.parts`; None: the defaults). The persona sees
    each proposal's kind of change from the stream (`bench.kinds`); the class key has it only
    when the agent labels the replayed answer with it.
    """
    from tether.agent import AgentRequest
    from tether.config import ClassSettings, Settings
    from tether.core.types import Range
    from tether.service import TetherService
    from tether.service.errors import AgentFailed

    root = root or stdlib_root()
    workspace = workdir / f"ws-{persona.name}"
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "tether.toml").write_text(workspace_spec())
    replay = workdir / f"replay-{persona.name}.jsonl"
    write_replay(rewrites, replay)
    classes = ClassSettings() if parts is None else ClassSettings(parts=list(parts))
    settings = Settings(model=f"replay:{replay}", home=workdir / "home", classes=classes)
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
            kind = kind_of(rw)
            try:
                outcome = await service.propose(req)
            except AgentFailed:  # the verifier refused the recorded answer: nothing to judge
                outcome = None
            if outcome is None or not outcome.proposals:
                steps.append(
                    Step(i, rw.task, rw.path, "", "failed", None, None, "reject", 0.0, False, kind)
                )
                continue
            planned = outcome.proposals[0]
            proposal, decision = planned.proposal, planned.decision
            seen = PersonaProposal.of(proposal, i).model_copy(update={"kind": kind})
            verdict = persona(seen)
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
                    kind=kind,
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
        elif verdict.kind == "reject":  # the user undoes an edit they did not want
            await service.correct(proposal_id, plan.proposal.original)
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


def persona_metrics(
    steps: Sequence[Step], window: int, flip_at: int | None = None
) -> dict[str, Any]:
    """One run's numbers; `flip_at`: the decision at which the persona may change its mind."""
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
        "policies": baselines.all_policies(steps, flip_at),
    }


@dataclass
class LearningRun:
    persona: str
    path: str
    seconds: float
    metrics: dict[str, Any]
    steps: list[Step]
    seed: int = 0

    @classmethod
    def of(
        cls,
        persona: Persona,
        started: float,
        steps: list[Step],
        window: int,
        seed: int,
        flip_at: int | None = None,
    ) -> LearningRun:
        """The run of `persona` whose steps were taken since `started` (perf_counter)."""
        return cls(
            persona.name,
            str(persona.path),
            time.perf_counter() - started,
            persona_metrics(steps, window, flip_at),
            steps,
            seed,
        )


async def run_learning(
    persona_specs: Sequence[str | Path],
    *,
    decisions: int = 400,
    seed: int = 0,
    window: int = 50,
    workdir: Path | None = None,
    parts: Sequence[str] | None = None,
) -> list[LearningRun]:
    """One stream (seed `seed`: the proposals and the exploration draws), every persona."""
    rewrites = stream(decisions, seed=seed)
    runs = []
    with tempfile.TemporaryDirectory(prefix="tether-bench-learning-") as tmp:
        base = (workdir or Path(tmp)) / f"seed-{seed}"
        for spec in persona_specs:
            persona = load_persona(spec)
            persona.configure(drift_at=decisions // 2)
            t0 = time.perf_counter()
            steps = await run_persona(persona, rewrites, workdir=base, seed=seed, parts=parts)
            runs.append(LearningRun.of(persona, t0, steps, window, seed, decisions // 2))
    return runs


def run(
    persona_specs: Sequence[str | Path],
    *,
    decisions: int = 400,
    seed: int = 0,
    seeds: Sequence[int] | None = None,
    window: int = 50,
    parts: Sequence[str] | None = None,
) -> list[LearningRun]:
    """Every persona on every stream seed (`seeds`, else just `seed`), seed by seed."""
    runs: list[LearningRun] = []
    for s in seeds if seeds is not None else (seed,):
        runs += asyncio.run(
            run_learning(persona_specs, decisions=decisions, seed=s, window=window, parts=parts)
        )
    return runs


# ---------------------------------------------------------------------- over seeds
def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def pooled_metrics(runs: Sequence[LearningRun]) -> dict[str, Any]:
    """One persona's runs on several stream seeds, summed up the way the targets are judged.

    One stream is a few hundred decisions, so one seed's false-auto rate rests on a handful
    of events and its ECE on a few bins' luck; a default tuned on one stream does not say
    how it does on the next. False autos are pooled (all false autos over all autos: a rate
    of rare events, so summed, not averaged); prompt reduction and ECE are means over the
    seeds, and the worst seed is reported next to each.
    """
    per = [r.metrics for r in runs]
    autos = sum(m["auto_decisions"] for m in per)
    false = sum(m["false_auto"] for m in per)
    reductions = [m["prompt_reduction_last_100"] for m in per]
    eces = [m["overall"]["ece"] for m in per]
    rates = [m["overall"]["false_auto_rate"] for m in per]
    return {
        "seeds": [r.seed for r in runs],
        "decisions": sum(m["decisions"] for m in per),
        "auto_decisions": autos,
        "false_auto": false,
        "false_auto_rate": false / autos if autos else None,
        "false_auto_rate_worst": max((x for x in rates if x is not None), default=None),
        "prompt_reduction_last_100": _mean(reductions),
        "prompt_reduction_last_100_worst": min(
            (x for x in reductions if x is not None), default=None
        ),
        "prompt_rate": _mean([m["overall"]["prompt_rate"] for m in per]),
        "quiet_rate": _mean([m["overall"]["quiet_rate"] for m in per]),
        "brier": _mean([m["overall"]["brier"] for m in per]),
        "ece": _mean(eces),
        "ece_worst": max((x for x in eces if x is not None), default=None),
        "seconds": sum(r.seconds for r in runs),
        "curve": _mean_curve(per),
        "policies": baselines.compare([m["policies"] for m in per if "policies" in m]),
    }


def _mean_curve(per: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The learning curve averaged window by window over the seeds (false autos pooled)."""
    curve = []
    for windows in zip(*(m["curve"] for m in per), strict=True):
        point: dict[str, Any] = {"start": windows[0]["start"], "end": windows[0]["end"]}
        for key in ("prompt_rate", "auto_rate", "quiet_rate", "brier", "ece"):
            point[key] = _mean([w[key] for w in windows])
        autos = [w["auto_rate"] * w["decisions"] for w in windows if w["auto_rate"]]
        falses = [
            w["false_auto_rate"] * w["auto_rate"] * w["decisions"]
            for w in windows
            if w["auto_rate"] and w["false_auto_rate"] is not None
        ]
        point["false_auto_rate"] = sum(falses) / sum(autos) if autos else None
        curve.append(point)
    return curve


def steps_json(steps: Sequence[Step]) -> list[dict[str, Any]]:
    return [asdict(s) for s in steps]


# ---------------------------------------------------------------------- offline replay
@dataclass
class Judged:
    """One proposal of a recorded stream: its class and what the persona thought of it."""

    task: str
    path: str
    class_key: str  # "" when the agent could not parse the answer (a failed proposal)
    verdict: str
    label: float
    risk: tuple[str, ...] = ()  # the classifier's risk flags, passed on as the service does
    kind: str = ""


def verdict_trace(
    persona: Persona,
    rewrites: Sequence[Rewrite],
    parts: Sequence[str] | None = None,
    *,
    key_kinds: str = "stream",
) -> list[Judged]:
    """What `run_persona` would show the persona, without the service, in seconds not minutes.

    A persona judges the edit alone and the replay provider's answer is fixed, so the class
    and the verdict of each proposal do not depend on the policy: they are computed once here
    the way the agent computes them (its parser and classifier), and the policy is replayed
    over them (`replay_trace`) as often as a tuning sweep needs. `run_persona` stays the
    benchmark; this is the tuning tool, and a test checks that both agree step by step.

    `key_kinds`: which kind of change the class key gets. `stream` (the default): the
    proposal's own (`bench.kinds`: the ruff rule for the rewrites ruff finds, the agent's kind
    for the others), as the agent labels proposals grounded in ruff. `agent`: what the agent
    reads off a replayed model answer (`docstring`, `type-hints` or `rewrite`), which is what
    the service path keys on while the replay provider cannot pass a recorded kind along.
    The persona always sees the proposal's own kind.
    """
    from tether.agent.classes import classify
    from tether.agent.kinds import kind_of as agent_kind
    from tether.agent.parsing import Parsed, parse_completion
    from tether.config import ClassSettings
    from tether.core.response_format import render_completion

    classes = ClassSettings() if parts is None else ClassSettings(parts=list(parts))
    out = []
    for i, rw in enumerate(rewrites):
        kind = kind_of(rw)
        parsed = parse_completion(render_completion(rw.proposed, "python", rw.task), rw.original)
        if not isinstance(parsed, Parsed):
            out.append(Judged(rw.task, rw.path, "", "reject", 0.0, kind=kind))
            continue
        key_kind = kind if key_kinds == "stream" else agent_kind(rw.original, parsed.text)
        key, risk = classify(
            rw.path, rw.task, "python", rw.original, parsed.text, classes, kind=key_kind
        )
        seen = PersonaProposal(
            path=rw.path,
            original=rw.original,
            proposed=parsed.text,
            task=rw.task,
            kind=kind,
            class_key=key,
            index=i,
        )
        verdict = persona(seen)
        out.append(Judged(rw.task, rw.path, key, verdict.kind, verdict.approves, tuple(risk), kind))
    return out


def replay_trace(
    trace: Sequence[Judged], policy: Any, seed: int = 0, parts: Sequence[str] | None = None
) -> list[Step]:
    """The profile and policy alone over a verdict trace, writing the rows the service would."""
    from tether.core.types import Actor, Outcome
    from tether.decisions.models import DecisionRecord
    from tether.profile import Profile

    profile = Profile(policy, parts)
    rng = random.Random(seed)
    seq = 0

    def row(
        outcome: Outcome, key: str, actor: Actor, pid: str, data: dict[str, Any] | None = None
    ) -> None:
        nonlocal seq
        seq += 1
        profile.observe(
            DecisionRecord(
                seq=seq,
                prev_hash="0" * 64,
                hash="0" * 64,
                ts="2025-01-01T00:00:00+00:00",
                outcome=outcome,
                actor=actor,
                class_key=key,
                proposal_id=pid,
                data=data or {},
            )
        )

    steps = []
    for i, v in enumerate(trace):
        if not v.class_key:
            steps.append(
                Step(i, v.task, v.path, "", "failed", None, None, "reject", 0.0, False, v.kind)
            )
            continue
        pid = f"p{i}"
        row(Outcome.PROPOSED, v.class_key, Actor.SYSTEM, pid)
        d = profile.decide(v.class_key, v.risk, rng=rng)
        if d.mode == "quiet":
            row(Outcome.SUPPRESSED, v.class_key, Actor.POLICY, pid)
        elif d.mode == "auto":
            row(Outcome.AUTO_APPLIED, v.class_key, Actor.POLICY, pid)
            if v.verdict == "reject":  # undone, as `act` does
                row(Outcome.CORRECTED, v.class_key, Actor.USER, pid, {"reverted": True})
        elif v.verdict == "reject":
            row(Outcome.REJECTED, v.class_key, Actor.USER, pid)
        else:
            row(Outcome.ACCEPTED, v.class_key, Actor.USER, pid)
        if d.mode != "quiet" and v.verdict == "correct":
            row(Outcome.CORRECTED, v.class_key, Actor.USER, pid)
        predicted = float(d.numbers["predicted"])
        steps.append(
            Step(
                i,
                v.task,
                v.path,
                v.class_key,
                d.mode,
                d.override,
                predicted,
                v.verdict,
                v.label,
                True,
                v.kind,
            )
        )
    return steps


def replay(
    persona_specs: Sequence[str | Path],
    policy: Any,
    *,
    decisions: int = 400,
    seeds: Sequence[int] = (0,),
    window: int = 50,
    parts: Sequence[str] | None = None,
    key_kinds: str = "stream",
) -> dict[str, dict[str, Any]]:
    """Pooled metrics per persona over `seeds` for one policy setting, by offline replay."""
    out: dict[str, list[LearningRun]] = {}
    for seed in seeds:
        rewrites = stream(decisions, seed=seed)
        for spec in persona_specs:
            persona = load_persona(spec)
            persona.configure(drift_at=decisions // 2)
            t0 = time.perf_counter()
            trace = verdict_trace(persona, rewrites, parts, key_kinds=key_kinds)
            steps = replay_trace(trace, policy, seed, parts)
            out.setdefault(persona.name, []).append(
                LearningRun.of(persona, t0, steps, window, seed, decisions // 2)
            )
    return {name: pooled_metrics(runs) for name, runs in out.items()}


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m bench.learning --seeds 5-9 --set check_every=0 --set exploration=0.2`."""
    import argparse

    from bench.personas import BUILTIN
    from bench.run import seed_list
    from tether.config import PolicySettings

    parser = argparse.ArgumentParser(
        prog="python -m bench.learning",
        description="Replay the learning benchmark's verdicts through the profile and policy "
        "alone (same numbers as the benchmark, in seconds): for tuning policy settings.",
    )
    parser.add_argument("--seeds", type=seed_list, default=[0, 1, 2, 3, 4])
    parser.add_argument("--decisions", type=int, default=400)
    parser.add_argument("--persona", action="append", help="persona file (default: built-ins)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="a policy setting"
    )
    parser.add_argument(
        "--parts", help="class key parts, comma-separated (default: classes.parts' default)"
    )
    parser.add_argument(
        "--key-kinds",
        choices=("stream", "agent"),
        default="stream",
        help="the kind in the class key: each proposal's own (ruff rule or agent kind; "
        "default) or what the agent reads off a replayed answer (the service path today)",
    )
    args = parser.parse_args(argv)
    changes = dict(item.split("=", 1) for item in args.set)
    policy = PolicySettings.model_validate({**PolicySettings().model_dump(), **changes})
    parts = args.parts.split(",") if args.parts else None
    pooled = replay(
        args.persona or list(BUILTIN),
        policy,
        decisions=args.decisions,
        seeds=args.seeds,
        parts=parts,
        key_kinds=args.key_kinds,
    )
    print(
        f"seeds {args.seeds}, parts {parts or 'default'}, key kinds {args.key_kinds}, "
        f"changed settings {changes or 'none'}"
    )
    for name, p in pooled.items():
        print(f"{name}: ECE mean {p['ece']:.4f}, worst seed {p['ece_worst']:.3f}")
        print(
            f"  {'policy':11s} {'prompts':>7s} {'fewer':>6s} {'accept':>6s} {'lift':>5s} "
            f"{'false autos':>15s} {'wanted hidden':>15s} {'flip':>4s}"
        )
        for policy_name, q in p["policies"].items():
            print(
                f"  {policy_name:11s} {q['prompts']:7d} {_fmt(q['fewer_prompts'])} "
                f"{_fmt(q['accept_rate_shown'])} {_fmt(q['accept_lift'], 5, 2)} "
                f"{q['false_autos']:4d}/{q['autos']:<4d} {_fmt(q['false_auto_rate'], 6, 4)} "
                f"{q['wanted_quiet']:4d}/{q['wanted']:<4d} {_fmt(q['wanted_quiet_share'])} "
                f"{_fmt_int(q['applied_before_ask_worst'])}"
            )


def _fmt_int(x: int | None) -> str:
    return f"{x:>4d}" if x is not None else f"{'-':>4s}"


def _fmt(x: float | None, width: int = 6, digits: int = 3) -> str:
    return f"{x:{width}.{digits}f}" if x is not None else f"{'-':>{width}s}"


if __name__ == "__main__":
    main()
