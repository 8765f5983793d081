"""`python -m bench.training_sweep`: K (training.lora_layers) chosen by measurement, and
Tether's held-out accuracy against stock TRL's on the same pairs, in one run.

For each K, a Tether first run (cold caches, its own workspace) on the same N persona
pairs; then stock TRL (`bench.training_stock`: DPOTrainer + PEFT all-linear LoRA, fp32)
on all of those N pairs, in the same run, scored on the same held-out pairs by the same
`tether.training.evaluate`. Reports per K: seconds before the loop, in the loop and in
all, the frozen positions run, held-out preference accuracy and margin, and the gap to
stock's accuracy; with the machine's load average around each run, since on a shared
machine the seconds move with it (the positions and accuracies do not).

Writes `training-sweep.json` next to the other results and regenerates their README.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _pairs(count: int, heldout: int, seed: int, workdir: Path) -> tuple[list[Any], list[Any]]:
    """The training benchmark's pairs: the first `count` that fit, then `heldout` more."""
    from bench import training_bench as tb
    from bench.rewrites import stream

    rewrites = [
        r for r in stream(12 * (count + heldout), seed=seed) if r.end_line - r.start_line <= 12
    ]
    made = asyncio.run(tb.persona_pairs("modernizer", rewrites, workdir))
    tok = tb.tokenizer()
    fits = []
    for p in made:
        p["tokens"] = tb.pair_tokens(tok, p)
        if p["tokens"][0] + max(p["tokens"][1:3]) <= tb.MAX_LENGTH:
            fits.append(p)
    if len(fits) < count + heldout:
        raise RuntimeError(f"only {len(fits)} persona pairs fit in {tb.MAX_LENGTH} tokens")
    return fits[:count], fits[count : count + heldout]


def sweep(
    *, pairs: int, heldout: int, ks: list[int], stock: bool = True, seed: int = 0
) -> dict[str, Any]:
    from bench import training_bench as tb
    from tether.training.models import Hyperparameters

    os.environ.setdefault("TETHER_MODEL_CACHE", str(tb.REPO / ".tether-test" / "models"))
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="tether-bench-sweep-") as tmp:
        workdir = Path(tmp)
        first, held = _pairs(pairs, heldout, seed, workdir)
        hyper = None
        for k in ks:
            before = os.getloadavg()
            out = asyncio.run(
                tb.train_once(first, held, workdir, name=f"ws-k{k}", training={"lora_layers": k})
            )
            r = out["result"]
            m = r.metrics
            hyper = hyper or Hyperparameters.of(out["settings"])
            rows.append(
                {
                    "run": f"Tether K={k}",
                    "lora_layers": k,
                    "status": r.status,
                    "seconds_prepare": r.prepare_seconds,
                    "seconds_train": r.train_seconds,
                    "seconds": (r.prepare_seconds or 0) + (r.train_seconds or 0),
                    "cpu_seconds": out["cpu_seconds"],
                    "peak_rss_mb": out["peak_rss"] / 2**20,
                    "accuracy": m.candidate.preference_accuracy if m else None,
                    "margin": m.candidate.pairs_margin if m else None,
                    "trainable_parameters": r.trainable_parameters,
                    "split": r.cache,
                    "load_before": before,
                    "load_after": os.getloadavg(),
                }
            )
            print(f"sweep: {rows[-1]}", flush=True)
        if stock and hyper is not None:
            before = os.getloadavg()
            s = asyncio.run(tb.stock_once(first, held, workdir, hyper))
            done = s["status"] == "done"
            cand = s["metrics"]["candidate"] if done else {}
            rows.append(
                {
                    "run": "stock TRL DPOTrainer + PEFT all-linear",
                    "lora_layers": None,
                    "status": s["status"] if done else s["reason"][:300],
                    "seconds_prepare": s.get("prepare_seconds"),
                    "seconds_train": s.get("train_seconds"),
                    "seconds": (s.get("prepare_seconds") or 0) + (s.get("train_seconds") or 0),
                    "cpu_seconds": s.get("cpu_seconds"),
                    "peak_rss_mb": s["peak_rss"] / 2**20,
                    "accuracy": cand.get("preference_accuracy"),
                    "margin": cand.get("pairs_margin"),
                    "trainable_parameters": s.get("trainable_parameters"),
                    "split": {},
                    "load_before": before,
                    "load_after": os.getloadavg(),
                }
            )
            print(f"sweep: {rows[-1]}", flush=True)
    base = rows[-1] if stock and rows[-1]["lora_layers"] is None else None
    for row in rows:
        if base is None or row is base:
            continue
        if base["accuracy"] is not None and row["accuracy"] is not None:
            row["accuracy_gap"] = base["accuracy"] - row["accuracy"]
        if base["seconds"] and row["seconds"]:
            row["speedup"] = base["seconds"] / row["seconds"]
    return {"pairs": len(first), "heldout": len(held), "ks": ks, "runs": rows}


def main(argv: list[str] | None = None) -> int:
    from bench.machine import machine_info
    from bench.results import RESULTS_DIR, BenchResult, Table, write_readme, write_result

    parser = argparse.ArgumentParser(prog="python -m bench.training_sweep")
    parser.add_argument("--pairs", type=int, default=48)
    parser.add_argument("--heldout", type=int, default=32)
    parser.add_argument("--ks", default="2,4,8", help="values of training.lora_layers")
    parser.add_argument("--no-stock", action="store_true", help="skip the stock TRL run")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    command = "python -m bench.training_sweep " + " ".join(sys.argv[1:] if argv is None else argv)
    ks = [int(k) for k in args.ks.split(",")]
    started = time.perf_counter()
    m = sweep(pairs=args.pairs, heldout=args.heldout, ks=ks, stock=not args.no_stock)
    result = BenchResult(
        # without stock it is a K sweep alone, kept beside (not over) the run with stock
        name="training-sweep" if not args.no_stock else "training-k-sweep",
        title="Training: K (top LoRA layers) sweep, and accuracy against stock TRL"
        if not args.no_stock
        else "Training: K (top LoRA layers) sweep",
        mode="full",
        command=command,
        machine=machine_info(),
        metrics=m,
    )  # type: ignore[arg-type]
    result.duration_s = time.perf_counter() - started

    def f(x: Any, digits: int = 1) -> str:
        return "-" if x is None else f"{x:.{digits}f}"

    result.tables.append(
        Table(
            title=f"{m['pairs']} pairs, {m['heldout']} held out, every run in this one process",
            headers=[
                "run",
                "s before loop",
                "s loop",
                "s total",
                "frozen positions run",
                "held-out accuracy",
                "stock minus this",
                "stock s / this s",
                "peak RSS MB",
                "load 1m before/after",
            ],
            rows=[
                [
                    r["run"],
                    f(r["seconds_prepare"]),
                    f(r["seconds_train"]),
                    f(r["seconds"]),
                    r["split"].get("frozen_positions", "-"),
                    f(r["accuracy"], 3),
                    f(r.get("accuracy_gap"), 3),
                    f(r.get("speedup"), 2),
                    f(r["peak_rss_mb"], 0),
                    f"{r['load_before'][0]:.1f}/{r['load_after'][0]:.1f}",
                ]
                for r in m["runs"]
            ],
        )
    )
    path = write_result(result, args.results)
    print(result.render())
    print(f"(written to {path}; summary {write_readme(args.results)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
