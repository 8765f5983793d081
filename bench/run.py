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

BENCHMARKS = ("store", "learning", "latency", "training", "citizen")

#: Sizes per mode; --quick must finish in under 5 minutes on a 2-core laptop.
MODES: dict[str, dict[str, dict[str, Any]]] = {
    "quick": {
        "store": {"appends": 1000, "verify_rows": 100_000, "verify_repeats": 3},
        "learning": {"decisions": 100, "seeds": (0, 1)},
        "latency": {"starts": 2, "code_actions": 200, "changes": 20, "full_changes": 2},
        "training": {"quick": True, "heldout": 4},
        "citizen": {"quick": True},
    },
    "full": {
        "store": {"appends": 5000, "verify_rows": 100_000, "verify_repeats": 5},
        "learning": {"decisions": 400, "seeds": (0, 1, 2, 3, 4)},
        "latency": {"starts": 5, "code_actions": 1000, "changes": 100, "full_changes": 10},
        "training": {"sizes": (50, 100, 200), "heldout": 40},
        "citizen": {},
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
        result.targets += [
            Target(
                name=f"{name}: fewer prompts than asking every time (last 100, mean of seeds)",
                value=pooled["prompt_reduction_last_100"],
                target=0.5,
                op=">=",
            ),
            Target(
                name=f"{name}: false auto-approvals (all seeds' autos pooled)",
                value=pooled["false_auto_rate"],
                target=0.02,
                op="<=",
            ),
            Target(
                name=f"{name}: expected calibration error (mean of seeds)",
                value=pooled["ece"],
                target=0.05,
                op="<=",
            ),
        ]
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
        "auto-approval: an auto-applied proposal the persona would have rejected.",
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

    m = training_bench.run(**options, seed=args.seed)
    result.metrics = m
    runs = m["runs"]
    peak = m["matmul_peak"]["flops"]
    result.tables = [
        Table(
            title=f"DPO + LoRA through TrainingManager ({m['persona']} pairs, {m['heldout']} "
            f"held out; matmul peak {peak / 1e9:.1f} GFLOP/s fp32, "
            f"{m['matmul_peak']['threads']} threads)",
            headers=[
                "pairs",
                "status",
                "steps",
                "s total",
                "s train",
                "s/step",
                "tokens/s",
                "peak RSS MB",
                "GFLOP/s",
                "of peak",
                "base pref acc",
                "adapter pref acc",
                "margin",
            ],
            rows=[
                [
                    r["pairs"],
                    r["status"],
                    r["steps"],
                    r["seconds_total"],
                    r["seconds_train"],
                    r["seconds_per_step"],
                    r["tokens_per_s"],
                    r["peak_rss_mb"],
                    (r["achieved_flops"] or 0) / 1e9,
                    r["flops_fraction"],
                    r["base_preference_accuracy"],
                    r["candidate_preference_accuracy"],
                    r["candidate_margin"],
                ]
                for r in runs
            ],
        )
    ]
    if m["curve"]:
        result.tables.append(
            Table(
                title="Learning curve: held-out preference accuracy after N training pairs "
                "(one epoch, adapters saved on the way)",
                headers=["pairs trained", "steps", "preference accuracy", "mean margin"],
                rows=[
                    [c["pairs"], c["steps"], c["preference_accuracy"], c["margin"]]
                    for c in m["curve"]
                ],
            )
        )
    gen = m.get("generation")
    if gen:
        ways = [
            ("base", "base model, greedy"),
            ("adapter", "adapter, greedy"),
            ("adapter_sampled", f"adapter, first of {gen['candidates']} samples"),
            ("adapter_reranked", f"adapter, {gen['candidates']} samples reranked"),
        ]
        result.tables.append(
            Table(
                title=f"The persona judges what the embedded model writes ({gen[ways[0][0]]['n']}"
                " held-out requests, through the agent)",
                headers=["model", "accepted", "corrected", "rejected", "no usable edit", "rate"],
                rows=[
                    [
                        label,
                        gen[key]["accepted"],
                        gen[key]["corrected"],
                        gen[key]["rejected"],
                        gen[key]["failed"],
                        gen[key]["acceptance"],
                    ]
                    for key, label in ways
                ],
            )
        )
    last = runs[-1] if runs else None
    fractions = [r["flops_fraction"] for r in runs if r["flops_fraction"] is not None]
    fraction = max(fractions) if fractions else None
    result.targets = [
        Target(name="achieved FLOP/s / matmul peak", value=fraction, target=0.40, op=">=")
    ]
    if not options.get("quick") and last is not None:
        result.targets += [
            Target(
                name=f"held-out preference accuracy after {last['pairs_trained']} pairs",
                value=last["candidate_preference_accuracy"],
                target=0.80,
                op=">=",
            ),
            Target(
                name=f"one epoch on {last['pairs_trained']} pairs (training loop)",
                value=(last["seconds_train"] or 0) / 60,
                target=6,
                op="<",
                unit="min",
            ),
        ]
    result.notes.append(
        f"Compute bound: a pair here is {m['mean_tokens_per_pair']:.0f} tokens (prompt "
        f"{m['mean_prompt_tokens']:.0f}, counted once per answer) and "
        f"{m['gflop_per_pair']:.0f} GFLOP of training"
        + (" with the shared prefix run once" if runs and runs[-1].get("prefix_shared") else "")
        + f"; 200 pairs need {m['minutes_200_pairs_at_peak']:.1f} min at 100% of this "
        "machine's fp32 matmul peak"
        + (
            f", {m['minutes_200_pairs_at_measured_rate']:.1f} min at the rate measured here."
            if m["minutes_200_pairs_at_measured_rate"]
            else "."
        )
    )
    failed = [r for r in runs if r["status"] in ("failed", "skipped")]
    if failed:
        result.status = "error"
        result.reason = "; ".join(f"{r['pairs']} pairs: {r['reason'][:300]}" for r in failed)
    result.notes += [
        "FLOPs counted from the model's shapes and each pair's tokens: linear layers on every "
        "token, causal attention, the LM head on completion tokens only, LoRA; policy forward "
        "+ backward (activation gradients through frozen weights, LoRA weight gradients) + "
        "the reference forward. Padding is not counted.",
        f"Prompts built with {m['context_lines']} context lines (the agent's default is 20); "
        f"pairs longer than max_length {m['max_length']} were left out "
        f"({m['pairs_too_long']} of {m['pairs_made']}).",
    ]


def bench_citizen(result: BenchResult, options: dict[str, Any], args: argparse.Namespace) -> None:
    from bench import citizen

    citizen.bench(result, options, args)


RUNNERS: dict[str, Callable[[BenchResult, dict[str, Any], argparse.Namespace], None]] = {
    "store": bench_store,
    "learning": bench_learning,
    "latency": bench_latency,
    "training": bench_training,
    "citizen": bench_citizen,
}
TITLES = {
    "store": "Decision store: durable appends and verification",
    "learning": "Learning with simulated users",
    "latency": "LSP latency and footprint",
    "training": "On-device training",
    "citizen": "Good citizen: ending with the editor, memory",
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
