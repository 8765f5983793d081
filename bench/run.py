"""`python -m bench.run --quick|--full`: run the benchmarks, write results, print tables.

Each benchmark writes `bench/results/<name>.json` (`<name>-quick.json` for --quick) with
the machine and date, and `bench/results/README.md` is regenerated from every JSON there.
Everything runs against a throw-away data root, so a user's own decisions are never touched.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.machine import REPO, machine_info
from bench.personas import BUILTIN
from bench.results import RESULTS_DIR, BenchResult, Table, Target, write_readme, write_result

BENCHMARKS = (
    "store",
    "learning",
    "latency",
    "training",
    "citizen",
    "trust",
    "publish",
    "proposals",
    "demo",
    "streaming",
)

#: Sizes per mode; --quick must finish in under 5 minutes on a 2-core laptop.
MODES: dict[str, dict[str, dict[str, Any]]] = {
    "quick": {
        "proposals": {"functions": 12},
        "demo": {"personas": [], "train_steps": 24},  # ~5 min per persona: full mode only
        "streaming": {"requests": 3},
        "store": {"appends": 1000, "verify_rows": 100_000, "verify_repeats": 3},
        "learning": {"decisions": 100, "seeds": (0, 1)},
        "latency": {"starts": 2, "code_actions": 200, "changes": 20, "full_changes": 2},
        "training": {"quick": True, "heldout": 4},  # 8 pairs, +2, stock on 4
        "citizen": {"quick": True},
        "trust": {"verify_rows": 100_000, "verify_repeats": 3, "checkpoint_rows": 100},
        "publish": {
            "prompts": 8,
            "tokens": 12,
            "levels": [(1, 4), (4, 8), (16, 16)],
            "embedded_levels": [(1, 2), (4, 4), (16, 16)],
        },
    },
    "full": {
        "proposals": {
            "functions": 48,
            "document": True,  # a document request per undocumented function (verifier pairs)
            "counts": (1, 4),
            "count_functions": 6,
            # one persona's training round before/after: set a persona name to run it (about
            # 150 requests and a training run; not run by default on 2 cores)
            "persona_training": None,
            "train_steps": 12,
        },
        "demo": {"personas": None, "train_steps": 24},  # every shipped persona
        "streaming": {"requests": 5},
        "store": {"appends": 5000, "verify_rows": 100_000, "verify_repeats": 5},
        "learning": {"decisions": 400, "seeds": tuple(range(10))},
        "latency": {"starts": 5, "code_actions": 1000, "changes": 100, "full_changes": 10},
        "training": {"pairs": 200, "extra": 20, "heldout": 40},
        "citizen": {},
        "trust": {"verify_rows": 100_000, "verify_repeats": 5, "checkpoint_rows": 300},
        "publish": {"prompts": 10, "tokens": 24, "levels": [(1, 8), (4, 16), (16, 32)]},
    },
}


def _r(value: Any, digits: int = 3) -> Any:
    return round(value, digits) if isinstance(value, float) else value


# ---------------------------------------------------------------------- store
def bench_store(result: BenchResult, options: dict[str, Any], args: argparse.Namespace) -> None:
    from bench import store_bench

    m = store_bench.run(**options)
    result.metrics = m
    result.targets = [
        Target(
            name="chained appends vs plain sqlite (same durability)",
            value=m["ratio"],
            target=0.70,
            op=">=",
        ),
        Target(
            name="verify speed on 100,000 rows",
            value=m["verify_rows_per_s"],
            target=100_000,
            op=">=",
            unit="rows/s",
        ),
    ]
    result.tables = [
        Table(
            title="Durable writes (WAL, synchronous=FULL, one commit per row)",
            headers=["writer", "rows", "rows/s", "ms/row"],
            rows=[
                [
                    "tether DecisionStore.append (hash-chained)",
                    m["appends"],
                    m["tether_appends_per_s"],
                    m["tether_ms_per_append"],
                ],
                [
                    "plain sqlite3 INSERT",
                    m["appends"],
                    m["plain_inserts_per_s"],
                    m["plain_ms_per_insert"],
                ],
                [
                    "plain INSERT through aiosqlite (not a target: the thread hand-off)",
                    m["appends"],
                    m["plain_async_inserts_per_s"],
                    m["plain_async_ms_per_insert"],
                ],
            ],
        ),
        Table(
            title="Chain verification (tether.decisions.verify_file)",
            headers=["rows", "chain ok", "best s", "rows/s"],
            rows=[
                [m["verify_rows"], m["verify_ok"], m["verify_seconds_best"], m["verify_rows_per_s"]]
            ],
        ),
    ]
    result.notes.append(
        f"Median per-block ratio {m['ratio_median_block']:.2f} (blocks of {m['block']} rows, "
        "rotating writers, all stores open); fsync latency on a shared disk varies a lot. "
        "An append is one SQL statement and one trip to aiosqlite's worker thread; against "
        f"plain inserts making the same trip Tether reaches {m['ratio_vs_plain_async']:.2f}."
    )


# ---------------------------------------------------------------------- learning
def learning_targets(name: str, pooled: dict[str, Any]) -> list[Target]:
    """The learning targets of one persona, read against the baselines over the same verdicts."""
    from tether.config import PolicySettings

    policies = pooled["policies"]
    ours, oracle = policies["tether"], policies["oracle"]
    gap = (
        ours["false_auto_rate"] - (oracle["false_auto_rate"] or 0.0)
        if ours["false_auto_rate"] is not None
        else None
    )
    targets = [
        Target(
            name=f"{name}: false autos minus the hindsight oracle's (pooled over seeds)",
            value=gap,
            target=0.005,
            op="<=",
        ),
        Target(
            name=f"{name}: wanted edits hidden by quiet (share of the wanted ones)",
            value=ours["wanted_quiet_share"],
            target=0.10,
            op="<=",
        ),
        Target(
            name=f"{name}: accept rate of shown proposals vs always-ask's",
            value=ours["accept_lift"],
            target=1.28,
            op=">=",
        ),
        Target(
            name=f"{name}: fewer prompts than always-ask",
            value=ours["fewer_prompts"],
            target=0.5,
            op=">=",
        ),
        Target(
            name=f"{name}: expected calibration error, worst seed",
            value=pooled["ece_worst"],
            target=0.05,
            op="<=",
        ),
    ]
    if ours["applied_before_ask_worst"] is not None:
        targets.append(
            Target(
                name=f"{name}: edits of a flipped kind applied before its first ask (worst seed)",
                value=ours["applied_before_ask_worst"],
                target=PolicySettings().check_every,
                op="<=",
            )
        )
    return targets


def policies_table(name: str, pooled: dict[str, Any]) -> Table:
    labels = {
        "tether": "Tether (profile policy)",
        "always_ask": "always ask",
        "oracle": "hindsight oracle (auto >= 0.9, quiet <= 0.1)",
        "cursor": "Cursor-style (show if P(accept) >= 0.25, never auto)",
    }
    rows = []
    for key, label in labels.items():
        p = pooled["policies"][key]
        rows.append(
            [
                label,
                p["prompts"],
                _r(p["fewer_prompts"]),
                _r(p["accept_rate_shown"]),
                _r(p["accept_lift"]),
                f"{p['false_autos']}/{p['autos']}",
                _r(p["false_auto_rate"], 4),
                f"{p['wanted_quiet']}/{p['wanted']}",
                _r(p["wanted_quiet_share"]),
                p["applied_before_ask_worst"],
            ]
        )
    return Table(
        title=f"{name}: the policy and three baselines over the same verdicts "
        f"({len(pooled['seeds'])} seeds pooled)",
        headers=[
            "policy",
            "prompts",
            "fewer prompts",
            "accept rate shown",
            "vs always-ask",
            "false autos / autos",
            "false auto rate",
            "wanted hidden / wanted",
            "share",
            "flipped kind applied before ask (worst seed)",
        ],
        rows=rows,
    )


def bench_learning(result: BenchResult, options: dict[str, Any], args: argparse.Namespace) -> None:
    from bench import learning

    personas = args.persona or list(BUILTIN)
    seeds = args.seeds or options["seeds"]
    decisions = args.decisions or options["decisions"]
    runs = learning.run(personas, decisions=decisions, seeds=seeds)
    names = list(dict.fromkeys(r.persona for r in runs))
    summary_rows, seed_rows = [], []
    for name in names:
        mine = [r for r in runs if r.persona == name]
        pooled = learning.pooled_metrics(mine)
        result.metrics[name] = {
            "path": mine[0].path,
            "pooled": pooled,
            "per_seed": {str(r.seed): {**r.metrics, "seconds": r.seconds} for r in mine},
        }
        result.targets += learning_targets(name, pooled)
        result.tables.append(policies_table(name, pooled))
        summary_rows.append(
            [
                name,
                len(mine),
                _r(pooled["prompt_reduction_last_100"]),
                _r(pooled["prompt_reduction_last_100_worst"]),
                f"{pooled['false_auto']}/{pooled['auto_decisions']}",
                _r(pooled["false_auto_rate"]),
                _r(pooled["false_auto_rate_worst"]),
                _r(pooled["ece"]),
                _r(pooled["ece_worst"]),
                _r(pooled["brier"]),
                _r(pooled["seconds"], 1),
            ]
        )
        for r in mine:
            m = r.metrics
            overall = m["overall"]
            seed_rows.append(
                [
                    name,
                    r.seed,
                    m["decisions"],
                    m["classes"],
                    _r(overall["prompt_rate"]),
                    _r(m["prompt_reduction_last_100"]),
                    m["auto_decisions"],
                    m["false_auto"],
                    _r(overall["auto_accuracy"]),
                    _r(overall["quiet_rate"]),
                    _r(overall["missed_by_quiet"]),
                    _r(overall["brier"]),
                    _r(overall["ece"]),
                    m["first_auto_at"],
                    _r(r.seconds, 1),
                ]
            )
        result.tables.append(
            Table(
                title=f"Learning curve: {name} (windows of 50 decisions, mean of "
                f"{len(mine)} seeds; false autos pooled)",
                headers=["decisions", "prompt rate", "auto", "quiet", "false auto", "Brier", "ECE"],
                rows=[
                    [
                        f"{c['start']}-{c['end']}",
                        _r(c["prompt_rate"]),
                        _r(c["auto_rate"]),
                        _r(c["quiet_rate"]),
                        _r(c["false_auto_rate"]),
                        _r(c["brier"]),
                        _r(c["ece"]),
                    ]
                    for c in pooled["curve"]
                ],
            )
        )
    result.tables[:0] = [
        Table(
            title=f"Per persona over stream seeds {', '.join(map(str, seeds))} "
            "(what the targets judge)",
            headers=[
                "persona",
                "seeds",
                "fewer prompts (last 100, mean)",
                "worst seed",
                "false autos / autos",
                "false auto rate (pooled)",
                "worst seed",
                "ECE (mean)",
                "worst seed",
                "Brier (mean)",
                "seconds",
            ],
            rows=summary_rows,
        ),
        Table(
            title="Per persona and seed (prediction: the posterior mean before each decision)",
            headers=[
                "persona",
                "seed",
                "decisions",
                "classes",
                "prompt rate",
                "fewer prompts last 100",
                "auto",
                "false auto",
                "auto accuracy",
                "quiet rate",
                "quiet but wanted",
                "Brier",
                "ECE",
                "first auto at",
                "seconds",
            ],
            rows=seed_rows,
        ),
    ]
    result.notes += [
        "Proposals: deterministic AST rewrites of this machine's standard library, replayed "
        "through TetherService.propose (agent with the replay provider, classes, memory, "
        "store, profile policy). Auto is applied with service.accept(decision=…); a persona's "
        "correction of an auto-applied edit is recorded as the user's correction.",
        "Labels: accept 1, correct 0.5 (the profile's correction_weight), reject 0. False "
        "auto-approval: an auto-applied proposal the persona would have rejected. Accept "
        "rate of shown proposals: accepted or corrected among those asked. Wanted: any "
        "proposal the persona would not reject.",
        "Baselines decide the same proposals with the same verdicts (bench.baselines): always "
        "ask; a hindsight oracle that knows each class's approval over the whole stream "
        "(auto >= 0.9, quiet <= 0.1, else ask); a Cursor-style policy that shows a proposal "
        "when a logistic model over the class's parts and kind of change, refitted every 20 "
        "verdicts on what was shown, predicts P(accept) >= 0.25, and never applies on its own.",
        "Kinds: each proposal's kind of change (bench.kinds: the ruff rule such as E711 or "
        "PTH118, or docstring, type-hints, rename, ...) is shown to the persona; the class "
        "key carries the kind the agent assigned to the recorded answer.",
        f"Seeds: each seed is its own stream of {decisions} proposals (another draw of "
        "functions and tasks) and its own exploration draws. Targets are judged over all "
        "seeds: false autos pooled (their sum over the sum of autos), prompt reduction and "
        "ECE as means, with the worst seed shown beside each.",
        f"The modernizer drifts at decision {decisions // 2}: "
        "from then on it rejects added type hints.",
    ]


# ---------------------------------------------------------------------- latency
def bench_latency(result: BenchResult, options: dict[str, Any], args: argparse.Namespace) -> None:
    from bench import latency

    m = latency.run(**options)
    result.metrics = m
    ca = m["code_action"]
    result.targets = [
        Target(
            name="initialize from process start (median)",
            value=m["initialize_ms_median"],
            target=700,
            op="<",
            unit="ms",
        ),
        Target(
            name="code action p99, 10 pending on a 5,000-line file",
            value=ca["p99_ms"],
            target=25,
            op="<",
            unit="ms",
        ),
        Target(
            name="idle memory before the model loads",
            value=m["idle_rss_mb"],
            target=150,
            op="<",
            unit="MB",
        ),
    ]
    rows = []
    for key, label in (
        ("code_action", "codeAction, 5,000 lines, 10 pending"),
        ("code_action_on_proposal", "  … on a pending proposal"),
        ("code_action_1mb_baseline", "codeAction on the 1 MB file"),
        ("did_change_1mb_incremental", "didChange (1 char) + codeAction, 1 MB"),
        ("did_change_1mb_full", "didChange (whole 1 MB) + codeAction"),
    ):
        s = m[key]
        rows.append([label, s["n"], s["p50_ms"], s["p90_ms"], s["p99_ms"], s["max_ms"]])
    result.tables = [
        Table(
            title="Round trips over stdio (ms)",
            headers=["request", "n", "p50", "p90", "p99", "max"],
            rows=rows,
        ),
        Table(
            title="Start-up and memory",
            headers=[
                "initialize median ms",
                "initialize min ms",
                "first start ms",
                "first code action answered, median ms",
                "idle RSS MB",
                "RSS after 10 proposals MB",
                "RSS at end MB",
                "proposals made",
            ],
            rows=[
                [
                    m["initialize_ms_median"],
                    m["initialize_ms_min"],
                    m["initialize_ms_first_start"],
                    m["ready_ms_median"],
                    m["idle_rss_mb"],
                    m["rss_after_proposals_mb"],
                    m["rss_end_mb"],
                    m["proposals_created"],
                ]
            ],
        ),
    ]
    result.notes.append(
        "Client: pytest-lsp's LanguageClient with VS Code's capabilities, spawning "
        "`python -m tether lsp` with TETHER_MODEL=replay:FILE (no model loaded)."
    )
    result.notes.append(
        "Times are from spawning the process. Tether's bytecode is compiled first, as a first "
        "run or pip would; the first start also fills the attrs code cache "
        "(tether.lsp.codecache), so it is shown apart. 'First code action answered' is the "
        "time until the server, store open, answers a request: when it is really ready."
    )


# ---------------------------------------------------------------------- training
def bench_training(result: BenchResult, options: dict[str, Any], args: argparse.Namespace) -> None:
    from bench import training_bench

    if args.stock_pairs:
        options = {**options, "stock_pairs": args.stock_pairs}
    if args.lora_layers is not None:
        options = {**options, "lora_layers": args.lora_layers}
    if args.no_forced_retrain:
        options = {**options, "forced": False}
    m = training_bench.run(**options, seed=args.seed)
    result.metrics = m
    runs = m["runs"]
    peak = m["matmul_peak"]["flops"]
    ours = runs[0]
    load = m["load_average"]
    stock_label = (
        f"stock: {m['stock_pairs']} of the {m['pairs']} pairs, its epoch time extrapolated per pair"
        if m["stock_extrapolated"]
        else "stock: all pairs"
    )
    result.tables = [
        Table(
            title=f"DPO + LoRA, side by side ({m['persona']} pairs, {m['heldout']} held out; "
            f"Tether K={m['lora_layers']} top layers; {stock_label}; matmul peak "
            f"{peak / 1e9:.1f} GFLOP/s fp32, {m['matmul_peak']['threads']} threads)",
            headers=[
                "run",
                "pairs",
                "status",
                "steps",
                "s prepare",
                "s train loop",
                "s total",
                "peak RSS MB",
                "CPU s",
                "GFLOP/pair",
                "GFLOP/s",
                "of peak",
                "held-out pref acc",
                "margin",
            ],
            rows=[
                [
                    r["run"],
                    r["pairs"],
                    r["status"],
                    r["steps"],
                    r["seconds_prepare"],
                    r["seconds_train"],
                    r["seconds"],
                    r["peak_rss_mb"],
                    r["cpu_seconds"],
                    r["gflop_per_pair"],
                    (r["achieved_flops"] or 0) / 1e9,
                    r["flops_fraction"],
                    r["preference_accuracy"],
                    r["margin"],
                ]
                for r in runs
            ],
        )
    ]
    first_min = ours["seconds"] / 60
    result.targets = [
        Target(
            name="first epoch: stock TRL time / Tether time"
            + (" (stock extrapolated)" if m["stock_extrapolated"] else ""),
            value=m["speedup"],
            target=3.0,
            op=">=",
        ),
        Target(
            name=f"held-out preference accuracy after {ours['pairs']} pairs",
            value=ours["preference_accuracy"],
            target=0.95,
            op=">=",
        ),
        Target(
            name="held-out accuracy: stock minus Tether"
            + (
                f" (not measured: stock trained on {m['stock_pairs']} pairs only)"
                if m["stock_extrapolated"]
                else ""
            ),
            value=None if m["stock_extrapolated"] else m["accuracy_gap"],
            target=0.02,
            op="<=",
        ),
        Target(
            name=f"retrain after +{m['extra']} pairs / first run",
            value=m["retrain_share"],
            target=0.20,
            op="<=",
        ),
        Target(
            name=f"first epoch on {ours['pairs']} pairs (frozen layers + reference + loop)",
            value=first_min,
            target=6,
            op="<",
            unit="min",
        ),
        Target(
            name="peak RSS of Tether's training process",
            value=ours["peak_rss_mb"] / 1024,
            target=3.0,
            op="<=",
            unit="GB",
        ),
    ]
    if options.get("quick"):  # the everyday run: a smoke test of the path, not the targets
        result.targets = result.targets[-1:]
    c1, c2 = (r.get("cache") or {} for r in runs[:2])
    c3 = (runs[2].get("cache") or {}) if len(runs) > 3 else {}
    result.notes += [
        f"Machine load (1/5/15-min load average on {m['matmul_peak']['threads']} threads): "
        + "; ".join(f"{k} {v[0]:.1f}/{v[1]:.1f}/{v[2]:.1f}" for k, v in load.items())
        + ". Other engineers' jobs share these cores, so times are upper bounds.",
        "CPU s: user + system seconds of the training process (including model loading "
        "and the held-out eval), a measure less bent by the other jobs on the machine: "
        + (f"stock / Tether {m['cpu_speedup']:.1f}x, " if m["cpu_speedup"] else "")
        + "retrain / first "
        f"{m['retrain_cpu_share'] or 0:.2f}.",
        f"Caches: first run {c1.get('ref_computed', 0)} reference pairs computed, "
        f"{c1.get('writes', 0)} entries written; retrain {c2.get('ref_hits', 0)} reference "
        f"pairs and {c2.get('hits', 0)} cache hits in all, {c2.get('ref_computed', 0)} "
        "computed (the new pairs)"
        + (
            f"; from the base on everything {c3.get('hits', 0)} hits, "
            f"{c3.get('ref_computed', 0)} computed."
            if c3
            else "."
        ),
        f"A pair here is {m['mean_tokens_per_pair']:.0f} tokens as two rows (prompt "
        f"{m['mean_prompt_tokens']:.0f}, counted once per answer). FLOPs counted from the "
        "model's shapes and each pair's tokens (bench/training_bench.py): linear layers on "
        "every position run, attention (stock: causal half; Tether's packed pairs: the whole "
        "masked square), the LM head where it runs (stock TRL on the CPU: every position), "
        "LoRA; backward through frozen weights = one forward, attention and LoRA two.",
        "'s prepare' is building the trainer: for Tether the frozen layers and the reference "
        "pass (TRL's precompute_ref_log_probs), for stock only tokenising (its reference runs "
        "in the loop). The epoch times compared are the totals.",
        f"Prompts built with {m['context_lines']} context lines; pairs longer than max_length "
        f"{m['max_length']} left out ({m['pairs_too_long']} of {m['pairs_made']}).",
    ]
    failed = [r for r in runs if r["status"] in ("failed", "skipped")]
    if failed:
        result.status = "error"
        result.reason = "; ".join(f"{r['run']}: {r['reason'][:300]}" for r in failed)


def bench_citizen(result: BenchResult, options: dict[str, Any], args: argparse.Namespace) -> None:
    from bench import citizen

    citizen.bench(result, options, args)


def bench_trust(result: BenchResult, options: dict[str, Any], args: argparse.Namespace) -> None:
    from bench import trust

    trust.bench(result, options)


def bench_proposals(result: BenchResult, options: dict[str, Any], args: argparse.Namespace) -> None:
    from bench import proposals

    proposals.bench(result, options)


def bench_demo(result: BenchResult, options: dict[str, Any], args: argparse.Namespace) -> None:
    from bench import demo_rounds

    demo_rounds.bench(result, options)


def bench_streaming(result: BenchResult, options: dict[str, Any], args: argparse.Namespace) -> None:
    from bench import streaming

    streaming.bench(result, options)


def bench_publish(result: BenchResult, options: dict[str, Any], args: argparse.Namespace) -> None:
    from bench import publish

    publish.bench(result, options)


RUNNERS: dict[str, Callable[[BenchResult, dict[str, Any], argparse.Namespace], None]] = {
    "store": bench_store,
    "learning": bench_learning,
    "latency": bench_latency,
    "training": bench_training,
    "citizen": bench_citizen,
    "trust": bench_trust,
    "publish": bench_publish,
    "proposals": bench_proposals,
    "demo": bench_demo,
    "streaming": bench_streaming,
}
TITLES = {
    "streaming": "Streaming: the model's first words vs its whole answer",
    "demo": "The demo per persona: acceptance before and after one training round",
    "proposals": "Proposals worth reviewing: ruff, the model and the verifier on real code",
    "store": "Decision store: durable appends and verification",
    "learning": "Learning with simulated users",
    "latency": "LSP latency and footprint",
    "training": "On-device training",
    "citizen": "Good citizen: ending with the editor, memory",
    "trust": "Trust: tampering caught, secrets kept in, verify speed, checkpoint cost",
    "publish": "Publish: bundle, llama.cpp parity, tether serve latency",
}


def run_one(
    name: str, mode: str, args: argparse.Namespace, machine: dict[str, Any], command: str
) -> BenchResult:
    result = BenchResult(
        name=name if mode == "full" else f"{name}-quick",
        title=TITLES[name],
        mode=mode,
        command=command,
        machine=machine,
    )  # type: ignore[arg-type]
    t0 = time.perf_counter()
    try:
        RUNNERS[name](result, dict(MODES[mode][name]), args)
    except ModuleNotFoundError as exc:
        result.status, result.reason = "skipped", f"a part is not there yet: {exc}"
    except Exception as exc:
        result.status = "error"
        result.reason = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    result.duration_s = time.perf_counter() - t0
    return result


def isolate() -> tempfile.TemporaryDirectory[str]:
    """A private data root and config dir for this run; the converted model is shared."""
    tmp = tempfile.TemporaryDirectory(prefix="tether-bench-")
    os.environ["TETHER_HOME"] = str(Path(tmp.name) / "home")
    os.environ["XDG_CONFIG_HOME"] = str(Path(tmp.name) / "config")
    os.environ.setdefault("TETHER_MODEL_CACHE", str(REPO / ".tether-test" / "models"))
    for var in ("TETHER_MODEL", "TETHER_TEACHER"):
        os.environ.pop(var, None)
    return tmp


def seed_list(text: str) -> list[int]:
    """`0-4` or `0,2,5` (or both: `0-2,7`) as a list of seeds."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            lo, sep, hi = part.strip().partition("-")
            seeds += list(range(int(lo), int(hi) + 1)) if sep else [int(lo)]
    except ValueError:
        seeds = []
    if not seeds or any(s < 0 for s in seeds):
        raise argparse.ArgumentTypeError(f"not a list of seeds: {text!r} (try 0-4 or 0,2,5)")
    return list(dict.fromkeys(seeds))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument(
        "--quick",
        action="store_const",
        const="quick",
        dest="mode",
        help="everyday run, under 5 minutes",
    )
    mode.add_argument(
        "--full",
        action="store_const",
        const="full",
        dest="mode",
        help="everything at full size (training takes a while)",
    )
    parser.add_argument(
        "--persona",
        action="append",
        metavar="PATH",
        help="persona file for the learning benchmark (repeatable; default: "
        f"the built-in {', '.join(BUILTIN)})",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=BENCHMARKS,
        metavar="NAME",
        help=f"run only these benchmarks (repeatable): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--decisions", type=int, help="decisions per persona (learning)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--stock-pairs",
        type=int,
        metavar="N",
        help="training: run stock TRL on the first N pairs only and extrapolate its epoch "
        "time (labelled so in the results)",
    )
    parser.add_argument(
        "--no-forced-retrain",
        action="store_true",
        help="training: skip the retrain from the base model on cached features",
    )
    parser.add_argument(
        "--lora-layers",
        type=int,
        metavar="K",
        help="training: Tether's training.lora_layers for this run (default: the setting's)",
    )
    parser.add_argument(
        "--seeds",
        type=seed_list,
        metavar="LIST",
        help="stream seeds for the learning benchmark, e.g. 0-4 or 5,7 (default: 0,1 quick, "
        "0-4 full)",
    )
    parser.add_argument(
        "--results", type=Path, default=RESULTS_DIR, help="where the JSON files and README.md go"
    )
    args = parser.parse_args(argv)
    if args.decisions is not None and args.decisions < 1:
        parser.error("--decisions must be at least 1")
    if args.persona:
        from bench.personas import PersonaError, resolve

        try:
            args.persona = [str(resolve(p)) for p in args.persona]
        except PersonaError as exc:
            parser.error(str(exc))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    command = "python -m bench.run " + shlex.join(sys.argv[1:] if argv is None else argv)
    names = [n for n in BENCHMARKS if not args.only or n in args.only]
    tmp = isolate()
    results: list[BenchResult] = []
    try:
        machine = machine_info()
        for name in names:
            print(f"== {name} ({args.mode}) …", flush=True)
            result = run_one(name, args.mode, args, machine, command)
            path = write_result(result, args.results)
            print(result.render(), flush=True)
            print(f"(written to {path})\n", flush=True)
            results.append(result)
        readme = write_readme(args.results)
        print(f"Summary table: {readme}")
    finally:
        tmp.cleanup()
    return 1 if any(r.status == "error" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
