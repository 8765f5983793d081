"""Proposals worth reviewing: the embedded model with ruff and the verifier, on real code.

The corpus is functions of modules installed in the virtualenv that Tether did not write
(PyYAML, python-dateutil, jmespath, dill, cloudpickle), copied into a scratch workspace.
One "improve" request per function that has at least one ruff finding under the agent's
default rule selection (functions without one are counted and reported apart), through the
real agent: ruff, the embedded SmolLM2 on the spots ruff cannot fix, the verifier.

Measured: the share of requests with a verified proposal; every shown proposal re-checked
here independently (parses, keeps each definition's name and parameters, no new ruff
finding); time to a proposal with the model warm; verifier pairs per 100 requests; the
yield and time per sample count (full mode); each persona's acceptance of the shown
proposals; one persona's acceptance on held-out functions before and after one training
round on its own decisions (full mode); and the held-out preference accuracy of an adapter
trained on verifier pairs alone.
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import random
import shutil
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CORPUS = (
    "yaml.constructor",
    "dateutil.rrule",
    "jmespath.parser",
    "dateutil.tz.tz",
    "yaml.emitter",
    "jmespath.functions",
    "dill._dill",
    "cloudpickle.cloudpickle",
)
MAX_FUNCTION_LINES = 40


@dataclass(frozen=True)
class Target:
    rel: str  # workspace-relative path
    first: int
    last: int
    name: str
    findings: tuple[str, ...]


@dataclass
class Outcome:
    target: Target
    seconds: float
    proposal: Any = None
    failures: list[str] = field(default_factory=list)
    tried: str = ""
    pairs: int = 0
    model_answers: int = 0
    valid: bool | None = None  # the independent re-check of the shown proposal
    invalid_why: str = ""


async def corpus(ws: Path, limit: int) -> tuple[list[Target], int]:
    """Functions with at least one finding (round robin over modules), and how many had none."""
    from tether.agent.tools.ruff import DEFAULT_IMPROVE_RULES, Ruff

    ruff = Ruff(ws)
    per_module: list[list[Target]] = []
    without = 0
    for module in CORPUS:
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            continue
        rel = f"src/{module.replace('.', '_')}.py"
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(spec.origin, ws / rel)
        text = (ws / rel).read_text(encoding="utf-8")
        found = await ruff.check(text, rel, DEFAULT_IMPROVE_RULES)
        targets = []
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not node.end_lineno:
                continue
            if node.end_lineno - node.lineno >= MAX_FUNCTION_LINES:
                continue
            first, last = node.lineno - 1, node.end_lineno - 1
            inside = tuple(f.rule for f in found if first <= f.line and f.end_line <= last)
            if inside:
                targets.append(Target(rel, first, last, node.name, inside))
            else:
                without += 1
        per_module.append(sorted(targets, key=lambda t: t.first))
    picked: list[Target] = []
    while len(picked) < limit and any(per_module):
        for targets in per_module:
            if targets and len(picked) < limit:
                picked.append(targets.pop(0))
    return picked, without


def request_for(ws: Path, t: Target, task: str = "improve") -> Any:
    from tether.agent import AgentRequest
    from tether.core.types import Range

    text = (ws / t.rel).read_text(encoding="utf-8")
    lines = text.split("\n")
    return AgentRequest(
        uri=(ws / t.rel).as_uri(),
        path=t.rel,
        text=text,
        range=Range.of(t.first, 0, t.last, len(lines[t.last])),
        task=task,
    )


def undocumented(ws: Path, targets: list[Target]) -> list[Target]:
    """The targets whose function has no docstring (what a "document" request is for)."""
    out = []
    for t in targets:
        tree = ast.parse((ws / t.rel).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.lineno - 1 == t.first
                and ast.get_docstring(node) is None
            ):
                out.append(t)
    return out


async def recheck(ws: Path, t: Target, proposal: Any) -> str:
    """Why a shown proposal is not valid, checked here with the tools directly ('' if it is)."""
    from tether.agent.tools.ruff import DEFAULT_IMPROVE_RULES, SAFETY_RULES, Ruff, counts
    from tether.agent.verifier import signature_change
    from tether.core.text import replace_range

    text = (ws / t.rel).read_text(encoding="utf-8")
    new = replace_range(text, proposal.range, proposal.proposed)
    try:
        before, after = ast.parse(text), ast.parse(new)
    except SyntaxError as exc:
        return f"does not parse: {exc}"
    broken = signature_change(before, after)
    if broken:
        return broken
    if proposal.range.start.line < t.first or proposal.range.end.line > t.last:
        return "outside the requested range"
    rules = (*DEFAULT_IMPROVE_RULES, *SAFETY_RULES)
    old_c = counts(await Ruff(ws).check(text, t.rel, rules))
    new_c = counts(await Ruff(ws).check(new, t.rel, rules))
    added = [r for r in new_c if new_c[r] > old_c[r]]
    return f"adds ruff {', '.join(added)}" if added else ""


async def run_all(
    agent: Any, ws: Path, targets: list[Target], task: str = "improve"
) -> list[Outcome]:
    out: list[Outcome] = []
    for i, t in enumerate(targets, start=1):
        started = time.perf_counter()
        result = await agent.propose(request_for(ws, t, task))
        o = Outcome(
            t,
            time.perf_counter() - started,
            result.proposals[0] if result.proposals else None,
            list(result.failures),
            result.tried,
            result.verifier_pairs,
            sum(len(v) for v in result.raw.values()),
        )
        if o.proposal is not None:
            why = await recheck(ws, t, o.proposal)
            o.valid, o.invalid_why = not why, why
        out.append(o)
        shown = "proposal" if o.proposal is not None else "none"
        where = f"{task} {t.rel}:{t.name}"
        print(f"  [{i}/{len(targets)}] {where} {shown} {o.seconds:.1f}s", flush=True)
    return out


def _p(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _share(n: int, d: int) -> float | None:
    return n / d if d else None


def judge_all(persona: Any, outcomes: list[Outcome]) -> tuple[int, int]:
    """(accepted, shown): a correction counts as accepted (the user kept the change)."""
    from bench.personas import PersonaProposal

    shown = [o.proposal for o in outcomes if o.proposal is not None]
    accepted = sum(
        persona(PersonaProposal.of(p, i)).kind in ("accept", "correct") for i, p in enumerate(shown)
    )
    return accepted, len(shown)


async def verifier_pair_training(outcomes: list[Outcome], workdir: Path) -> dict[str, Any]:
    """An adapter trained on verifier pairs alone, judged on held-out verifier pairs."""
    from bench.training_bench import train_once

    pairs = [
        {**pair, "proposal_id": o.proposal.id, "class_key": o.proposal.class_key}
        for o in outcomes
        if o.proposal is not None
        for pair in o.proposal.meta.get("verifier_pairs", [])
    ]
    if len(pairs) < 6:
        return {"pairs": len(pairs), "skipped": "fewer than 6 verifier pairs to split"}
    ids = sorted({p["proposal_id"] for p in pairs})
    random.Random(0).shuffle(ids)
    held_ids = set(ids[: max(1, len(ids) // 5)])
    train = [p for p in pairs if p["proposal_id"] not in held_ids]
    held = [p for p in pairs if p["proposal_id"] in held_ids]
    run = await train_once(train, held, workdir, name="verifier", training={"epochs": 2.0})
    result = run["result"]
    gate = result.gate
    return {
        "pairs": len(pairs),
        "train": len(train),
        "heldout": len(held),
        "status": result.status,
        "accuracy": gate.candidate if gate else None,
        "base": gate.reference if gate else None,
        "metric": gate.metric if gate else None,
        "seconds": result.seconds,
    }


async def training_round(
    ws: Path, targets: list[Target], persona_name: str, home: Path, steps: int
) -> dict[str, Any]:
    """One persona: decisions on 2/3 of the functions, one training, held-out before/after."""
    from tether.config import Settings
    from tether.demo.personas import load
    from tether.demo.rounds import Event, Request, Round
    from tether.service import TetherService

    persona = load(persona_name)
    reqs = [Request(ws / t.rel, t.first, t.last, t.name) for t in targets]
    cut = (2 * len(reqs)) // 3
    settings = Settings(home=home, training={"max_steps": steps})
    service = await TetherService.open(ws, settings)
    events: list[Event] = []
    try:
        player = Round(service, persona, events.append)
        held_before = await Round(service, persona, events.append).run(reqs[cut:], dry=True)
        first = await player.run(reqs[:cut])
        trained = await service.train_now(None)
        held_after = await player.run(reqs[cut:], dry=True)
    finally:
        await service.close()
    return {
        "persona": persona_name,
        "round1": {"shown": first.shown, "accepted": first.accepted},
        "training": {
            "status": trained.status,
            "reason": trained.reason,
            "gate": trained.gate.model_dump() if trained.gate else None,
        },
        "before": {"shown": held_before.shown, "accepted": held_before.accepted},
        "after": {"shown": held_after.shown, "accepted": held_after.accepted},
    }


def bench(result: Any, options: dict[str, Any]) -> None:
    asyncio.run(_bench(result, options))


async def _bench(result: Any, options: dict[str, Any]) -> None:
    from bench.personas import BUILTIN, load_persona
    from bench.results import Table
    from bench.results import Target as Goal
    from tether.agent import Agent, load_spec
    from tether.config import Settings

    tmp = Path(tempfile.mkdtemp(prefix="tether-proposals-"))
    ws = tmp / "ws"
    (ws / "src").mkdir(parents=True)
    targets, without = await corpus(ws, options["functions"])
    settings = Settings(home=tmp / "home")
    agent = Agent(settings, load_spec(ws), None, ws)
    # warm the model (the target is time with the model loaded)
    await agent.student.generate([{"role": "user", "content": "hi"}], n=1, max_new_tokens=4)
    outcomes = await run_all(agent, ws, targets)
    # "document" requests on the same functions: the model writes every candidate there,
    # so this is where the verifier refuses some and keeps others (its pairs)
    documented = (
        await run_all(agent, ws, undocumented(ws, targets), task="document")
        if options.get("document")
        else []
    )
    doc_pairs = sum(o.pairs for o in documented)
    n = len(outcomes)
    verified = [o for o in outcomes if o.proposal is not None]
    valid = [o for o in verified if o.valid]
    seconds = [o.seconds for o in outcomes]
    shown_seconds = [o.seconds for o in verified]
    pairs = sum(o.pairs for o in outcomes)
    sources = Counter(
        "ruff only"
        if o.proposal.role == "tool" and "student" not in o.proposal.candidates[0].source
        else "with the model"
        for o in verified
    )
    result.metrics.update(
        functions=n,
        functions_without_findings=without,
        verified=len(verified),
        valid=len(valid),
        p50_s=_p(shown_seconds, 0.5),
        p90_s=_p(shown_seconds, 0.9),
        p50_all_s=_p(seconds, 0.5),
        verifier_pairs=pairs,
        document_requests=len(documented),
        document_verified=sum(o.proposal is not None for o in documented),
        document_verifier_pairs=doc_pairs,
        sources=dict(sources),
        kinds=dict(Counter(o.proposal.kind for o in verified)),
        invalid=[
            f"{o.target.rel}:{o.target.name}: {o.invalid_why}" for o in verified if not o.valid
        ],
    )
    result.targets += [
        Goal(
            name="requests with a verified proposal",
            value=_share(len(verified), n),
            target=0.9,
            op=">=",
        ),
        Goal(
            name="shown proposals valid (parse, range, names, no new ruff finding)",
            value=_share(len(valid), len(verified)),
            target=1.0,
            op=">=",
        ),
        Goal(
            name="p50 time to a shown proposal, model warm",
            value=_p(shown_seconds, 0.5),
            target=5.0,
            op="<",
            unit="s",
        ),
    ]
    failed = Counter(
        f.split(": ")[1] if ": " in f else f
        for o in outcomes
        if o.proposal is None
        for f in o.failures[:1]
    )
    result.tables.append(
        Table(
            title=f"{n} functions with a ruff finding ({without} more without one were not asked)",
            headers=["", "value"],
            rows=[
                ["verified proposals", f"{len(verified)} of {n}"],
                [
                    "of which ruff's fixes alone / with the model's spot fixes",
                    f"{sources.get('ruff only', 0)} / {sources.get('with the model', 0)}",
                ],
                ["valid on re-check", f"{len(valid)} of {len(verified)}"],
                [
                    "time to a shown proposal p50 / p90",
                    f"{_p(shown_seconds, 0.5) or 0:.2f} s / {_p(shown_seconds, 0.9) or 0:.2f} s",
                ],
                ["verifier pairs per 100 requests", f"{100 * pairs / n:.0f}" if n else "n/a"],
                [
                    "document requests (undocumented functions): verified / verifier pairs per 100",
                    f"{sum(o.proposal is not None for o in documented)} of {len(documented)} / "
                    + (f"{100 * doc_pairs / len(documented):.0f}" if documented else "n/a"),
                ],
                [
                    "no proposal: first reasons",
                    "; ".join(f"{k} ({v})" for k, v in failed.most_common(4)) or "–",
                ],
            ],
        )
    )
    rows = []
    for name in BUILTIN:
        accepted, shown = judge_all(load_persona(name), outcomes)
        rows.append(
            [name, f"{accepted} of {shown}", f"{100 * accepted / shown:.0f} %" if shown else "n/a"]
        )
    result.tables.append(
        Table(
            title="Persona acceptance of the shown proposals (base model)",
            headers=["persona", "accepted", "share"],
            rows=rows,
        )
    )
    if options.get("counts"):
        count_rows = []
        need_model = [o.target for o in outcomes if o.model_answers][: options["count_functions"]]
        for k in options["counts"]:
            print(f"  samples per spot: {k}", flush=True)
            a = Agent(
                Settings(home=tmp / "home", candidates=k),
                load_spec(ws),
                None,
                ws,
                student=agent.student,
            )
            outs = await run_all(a, ws, need_model)
            got = sum(o.proposal is not None for o in outs)
            count_rows.append(
                [
                    k,
                    f"{got} of {len(outs)}",
                    f"{statistics.median([o.seconds for o in outs]):.2f} s" if outs else "n/a",
                ]
            )
        result.tables.append(
            Table(
                title="Samples per spot: yield on functions that need the model, and time",
                headers=["samples", "verified proposals", "p50 time"],
                rows=count_rows,
            )
        )
    await agent.close()
    print("  training an adapter on verifier pairs alone", flush=True)
    vp = await verifier_pair_training(outcomes + documented, tmp / "train")
    result.metrics["verifier_training"] = vp
    result.notes.append(
        "adapter trained on verifier pairs alone: "
        + (
            f"held-out {vp['metric']} {vp['accuracy']:.3f} vs base {vp['base']:.3f} "
            f"({vp['train']} train / {vp['heldout']} held-out pairs, {vp['status']})"
            if vp.get("accuracy") is not None
            else str(vp)
        )
    )
    if options.get("persona_training"):
        ws2 = tmp / "ws2"
        shutil.copytree(ws, ws2)
        tr = await training_round(
            ws2, targets, options["persona_training"], tmp / "home2", options["train_steps"]
        )
        result.metrics["persona_training"] = tr
        b, a = tr["before"], tr["after"]
        result.tables.append(
            Table(
                title=f"{tr['persona']}: held-out functions before and after one training round",
                headers=["", "shown", "accepted", "share"],
                rows=[
                    [
                        label,
                        d["shown"],
                        d["accepted"],
                        f"{100 * d['accepted'] / d['shown']:.0f} %" if d["shown"] else "n/a",
                    ]
                    for label, d in (("before", b), ("after", a))
                ],
            )
        )
        result.notes.append(
            f"training round: {tr['training']['status']} {tr['training']['reason']}"
        )
    shutil.rmtree(tmp, ignore_errors=True)
