"""`python -m bench.training_profile --pairs 16`: where one training run's time goes.

Runs one DPO worker job in this process (the same `trainer.run_job` the worker runs, with
the worker's `OMP_WAIT_POLICY=PASSIVE`) on the training benchmark's persona pairs, and
prints the time between its progress events: model load, building the trainer (the frozen
layers and the reference, before the loop), the loop, the held-out eval. `--cprofile`
adds the top of a cProfile listing. Small runs, for before/after comparisons of one change;
the side-by-side figures come from `python -m bench.run --only training`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def make_pairs(count: int, seed: int = 0) -> list[dict[str, Any]]:
    """The first `count` persona pairs that fit in the benchmark's max_length."""
    from bench import training_bench as tb
    from bench.rewrites import stream

    with tempfile.TemporaryDirectory(prefix="tether-profile-pairs-") as tmp:
        rewrites = [r for r in stream(6 * count, seed=seed) if r.end_line - r.start_line <= 12]
        made = asyncio.run(tb.persona_pairs("modernizer", rewrites, Path(tmp)))
    tok = tb.tokenizer()
    fits = []
    for p in made:
        tokens = tb.pair_tokens(tok, p)
        if tokens[0] + max(tokens[1:3]) <= tb.MAX_LENGTH:
            fits.append(p)
    if len(fits) < count:
        raise SystemExit(f"only {len(fits)} pairs fit in {tb.MAX_LENGTH} tokens")
    return fits[:count]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.training_profile")
    parser.add_argument("--pairs", type=int, default=16, help="training pairs")
    parser.add_argument("--heldout", type=int, default=4, help="held-out pairs")
    parser.add_argument("--lora-layers", type=int, help="K (default: the setting's)")
    parser.add_argument("--cprofile", action="store_true", help="print a cProfile listing")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads, as the worker
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    repo = Path(__file__).resolve().parents[1]
    os.environ.setdefault("TETHER_MODEL_CACHE", str(repo / ".tether-test" / "models"))

    from bench import training_bench as tb
    from tether.config import Settings
    from tether.training.models import Hyperparameters, TrainingJob
    from tether.training.trainer import run_job

    pairs = make_pairs(args.pairs + args.heldout)
    tmp = Path(tempfile.mkdtemp(prefix="tether-profile-"))

    def write(name: str, rows: list[dict[str, Any]]) -> str:
        keep = ("prompt", "chosen", "rejected")
        path = tmp / name
        path.write_text("".join(json.dumps({k: r[k] for k in keep}) + "\n" for r in rows))
        return str(path)

    overrides: dict[str, Any] = {"max_length": tb.MAX_LENGTH}
    if args.lora_layers is not None:
        overrides["lora_layers"] = args.lora_layers
    job = TrainingJob(
        job_id="profile",
        method="dpo",
        train_file=write("train.jsonl", pairs[: args.pairs]),
        heldout_pairs_file=write("heldout.jsonl", pairs[args.pairs :]),
        heldout_labels_file=write("labels.jsonl", []),
        output_dir=str(tmp / "out" / "candidate"),
        device="cpu",
        hyper=Hyperparameters.of(Settings(training=overrides).training),
        cache_dir=str(tmp / "cache"),
        cache_mb=4096,
    )
    start = time.perf_counter()
    last = [start]

    def emit(event: Any) -> None:
        now = time.perf_counter()
        print(f"{now - start:7.1f}s (+{now - last[0]:6.1f}) {event.phase}: {event.message}")
        last[0] = now

    profiler = None
    if args.cprofile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    report = run_job(job, emit)
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    total = time.perf_counter() - start
    summary = {
        "pairs": args.pairs,
        "lora_layers": report.lora_layers,
        "total_s": round(total, 1),
        "prepare_s": report.prepare_seconds,
        "train_s": report.train_seconds,
        "accuracy": report.metrics.candidate.preference_accuracy,
        "split": report.split,
        "cache": report.cache,
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
