"""Training benchmark: the real trainer (TrainingManager -> worker -> TRL DPO with LoRA) on
preference pairs a persona made, measured against this machine's own matmul peak.

Pairs: the agent (replay provider, so no model is needed to propose) writes the prompt for
each rewrite exactly as it would for the embedded model; the persona's verdict orders the
two answers (accepted: the rewrite over the untouched code; rejected: the other way round;
corrected: the persona's text over the rewrite). A fixed held-out set of pairs, never
trained on, measures preference accuracy.

Learning curve: one epoch over the largest size, with the adapter saved after the steps
that cover the smaller sizes (constant learning rate, so the adapter after 13 steps of 4
pairs is what a 52-pair run would give up to data order); each is scored on the held-out
pairs. Then the persona judges what the embedded model itself writes for held-out rewrites:
base vs adapter (greedy), and the adapter's sampled candidates in the model's order vs
reranked by the adapter's implicit reward.

FLOPs are counted from the model's shapes and the real token counts (`pair_flops`):
every linear layer on every token, causal attention, the LM head on the completion tokens
only (TRL's fused head projects nothing else), and LoRA; backward through frozen weights
costs one forward (activation gradients only), attention and LoRA two. With prefix sharing
(`tether.training.prefix`, on by default) the positions a pair's rows share are counted once,
as they are run once.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.personas import PersonaProposal, load_persona
from bench.rewrites import Rewrite, stdlib_root, stream

REPO = Path(__file__).resolve().parents[1]


def matmul_peak(n: int = 2048, seconds: float = 3.0, device: str = "cpu") -> dict[str, Any]:
    """Best fp32 matmul FLOP/s this machine reaches with torch (the denominator)."""
    import torch

    a = torch.randn(n, n, dtype=torch.float32, device=device)
    b = torch.randn(n, n, dtype=torch.float32, device=device)
    torch.matmul(a, b)  # warm-up
    best, runs, start = 0.0, 0, time.perf_counter()
    while time.perf_counter() - start < seconds or runs < 3:
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        torch.matmul(a, b)
        if device == "cuda":
            torch.cuda.synchronize()
        best = max(best, 2 * n**3 / (time.perf_counter() - t0))
        runs += 1
    return {
        "n": n,
        "flops": best,
        "runs": runs,
        "threads": torch.get_num_threads(),
        "device": device,
    }


def rewrite_request(rw: Rewrite, ws: Path) -> Any:
    """The agent's request for a rewrite's lines, as an editor would send it."""
    from tether.agent import AgentRequest
    from tether.core.types import Range

    return AgentRequest(
        uri=(ws / rw.path).as_uri(),
        path=rw.path,
        text=(stdlib_root() / rw.path).read_text(encoding="utf-8"),
        range=Range.of(rw.start_line, 0, rw.end_line, 0),
        task=rw.task,
    )


async def persona_pairs(
    persona_spec: str, rewrites: Sequence[Rewrite], workdir: Path
) -> list[dict[str, Any]]:
    """Prompt, chosen and rejected completions for each rewrite, ordered by the persona."""
    from bench.learning import workspace_spec, write_replay
    from tether.agent import Agent
    from tether.agent.providers.replay import ReplayProvider
    from tether.agent.spec import load_spec
    from tether.config import Settings
    from tether.core.response_format import render_completion

    persona = load_persona(persona_spec)
    persona.configure(drift_at=None)
    ws = workdir / "ws-train"
    ws.mkdir(parents=True, exist_ok=True)
    (ws / "tether.toml").write_text(workspace_spec())
    replay = workdir / "replay-train.jsonl"
    write_replay(rewrites, replay)
    settings = Settings(
        model=f"replay:{replay}", home=workdir / "home", context_lines=CONTEXT_LINES
    )
    agent = Agent(settings, load_spec(ws), None, ws, student=ReplayProvider(replay))
    pairs = []
    for i, rw in enumerate(rewrites):
        result = await agent.propose(rewrite_request(rw, ws))
        if not result.proposals:
            continue
        p = result.proposals[0]
        verdict = persona(PersonaProposal.of(p, i))
        if verdict.kind == "accept":
            chosen, rejected = p.proposed, p.original
        elif verdict.kind == "reject":
            chosen, rejected = p.original, p.proposed
        else:
            chosen, rejected = verdict.text or p.proposed, p.proposed
        pairs.append(
            {
                "prompt": p.prompt,
                "chosen": render_completion(chosen, "python"),
                "rejected": render_completion(rejected, "python"),
                "proposal_id": p.id,
                "class_key": p.class_key,
                "verdict": verdict.kind,
                "rewrite": i,
            }
        )
    await agent.close()
    return pairs


def _training_data(train: Sequence[dict[str, Any]], heldout: Sequence[dict[str, Any]]) -> Any:
    from tether.training.dataset import PairRow, TrainingData, data_hash
    from tether.training.models import DecisionRange

    def rows(items: Sequence[dict[str, Any]], offset: int) -> list[PairRow]:
        return [
            PairRow(
                prompt=p["prompt"],
                chosen=p["chosen"],
                rejected=p["rejected"],
                proposal_id=p["proposal_id"],
                seq=offset + i,
                class_key=p["class_key"],
                source="correction",
            )
            for i, p in enumerate(items)
        ]

    data = TrainingData(
        pairs_train=rows(train, 1),
        pairs_heldout=rows(heldout, 10_000),
        labels_train=[],
        labels_heldout=[],
        decision_range=DecisionRange(),
        data_hash="",
    )
    data.data_hash = data_hash(data)
    return data


def tokenizer() -> Any:
    from transformers import AutoTokenizer

    from tether.embedded import ensure_plain_model

    return AutoTokenizer.from_pretrained(ensure_plain_model())


def pair_tokens(tok: Any, pair: dict[str, Any]) -> tuple[int, int, int, int]:
    """Tokens of the prompt, the chosen and the rejected completion (each + EOS), as TRL
    tokenises them, and how many leading tokens the two rows share (prompt and the
    answers' common start, e.g. the code fence), which the trainer runs once."""

    def ids(text: str) -> list[int]:
        return tok(text, add_special_tokens=False)["input_ids"]

    prompt = ids(pair["prompt"])
    chosen = prompt + ids(pair["chosen"]) + [tok.eos_token_id]
    rejected = prompt + ids(pair["rejected"]) + [tok.eos_token_id]
    shared = 0
    for a, b in zip(chosen, rejected, strict=False):
        if a != b:
            break
        shared += 1
    shared = min(shared, len(chosen) - 1, len(rejected) - 1)
    return len(prompt), len(chosen) - len(prompt), len(rejected) - len(prompt), shared


def model_shapes() -> dict[str, int]:
    import json

    from tether.embedded import ensure_plain_model

    cfg = json.loads((ensure_plain_model() / "config.json").read_text())
    heads = cfg["num_attention_heads"]
    return {
        "hidden": cfg["hidden_size"],
        "layers": cfg["num_hidden_layers"],
        "inter": cfg["intermediate_size"],
        "vocab": cfg["vocab_size"],
        "kv": cfg["hidden_size"] * cfg.get("num_key_value_heads", heads) // heads,
    }


def pass_flops(shapes: dict[str, int], new: int, past: int, scored: int, lora_r: int) -> float:
    """FLOPs of one training pass over `new` positions that attend to `past` earlier ones:
    the policy's forward and backward (LoRA on every linear layer) and the reference's
    forward (adapter off), with the LM head on the `scored` completion positions."""
    h, layers, inter, vocab, kv = (
        shapes["hidden"],
        shapes["layers"],
        shapes["inter"],
        shapes["vocab"],
        shapes["kv"],
    )
    linear = 2 * layers * (2 * h * h + 2 * h * kv + 3 * h * inter) * new
    # QK^T and AV, multiply-add, causal: each new position sees `past` + the ones before it
    attention = 4 * layers * h * (new * past + new * (new + 1) / 2)
    head = 2 * h * vocab * scored
    lora_params = lora_r * ((h + h) * 2 + (h + kv) * 2 + (h + inter) * 3)
    lora = 2 * layers * lora_params * new
    forward = linear + attention + head
    policy = (forward + lora) + (forward + attention + 2 * lora)
    return policy + forward


def pair_flops(
    shapes: dict[str, int], tokens: Sequence[int], lora_r: int, *, shared: bool
) -> float:
    """Training FLOPs of one DPO pair: both rows, or the shared prefix once and two tails."""
    from tether.training.prefix import MIN_SHARED

    prompt, chosen, rejected, common = tokens
    rows = (prompt + chosen, chosen), (prompt + rejected, rejected)
    if not shared or common < MIN_SHARED:
        return sum(pass_flops(shapes, n, 0, c, lora_r) for n, c in rows)
    return pass_flops(shapes, common, 0, 0, lora_r) + sum(
        pass_flops(shapes, n - common, common, c, lora_r) for n, c in rows
    )


#: The trainer's max_length (its default, 512). The agent's prompts at its default 20
#: lines of context each side run 500-1700 tokens and TRL drops examples whose prompt fills
#: max_length, so the benchmark builds its prompts with less context (CONTEXT_LINES) and
#: keeps the pairs that fit; how many did not is reported. Raising max_length instead costs
#: memory fast: at 1024 a batch of 4 pairs took the worker past 19 GB on this CPU.
MAX_LENGTH = 512
CONTEXT_LINES = 5
#: Stop a run whose worker grows past this share of the machine's memory, or 90% of what is
#: free when it starts (the worker took about 10 GB at max_length 512, batch 4, on this CPU).
MEMORY_GUARD_SHARE = 0.55


async def train_once(
    train: Sequence[dict[str, Any]],
    heldout: Sequence[dict[str, Any]],
    workdir: Path,
    *,
    max_steps: int | None = None,
    checkpoint_steps: Sequence[int] = (),
) -> dict[str, Any]:
    """One TrainingManager run on prepared data; returns its result, the worker's peak RSS,
    the adapter's folder and the checkpoints saved on the way."""
    import psutil

    from tether.config import Settings
    from tether.decisions import DecisionStore
    from tether.paths import WorkspacePaths
    from tether.training import TrainingManager

    ws = workdir / f"ws-{len(train)}"
    ws.mkdir(parents=True, exist_ok=True)
    settings = Settings(home=workdir / "home", training={"max_length": MAX_LENGTH})
    assert settings.training.max_length == MAX_LENGTH
    paths = WorkspacePaths(ws, settings.data_root).ensure()
    store = await DecisionStore.open(paths.db)
    manager = TrainingManager(store, paths, settings)
    peak = 0
    memory = psutil.virtual_memory()
    guard = int(min(memory.total * MEMORY_GUARD_SHARE, memory.available * 0.9))
    guarded = False
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak, guarded, where
        while not done.is_set():
            pid = manager.worker_pid
            if pid is not None:
                with contextlib.suppress(psutil.Error):
                    proc = psutil.Process(pid)
                    rss = proc.memory_info().rss + sum(
                        c.memory_info().rss for c in proc.children(recursive=True)
                    )
                    peak = max(peak, rss)
                    if rss > guard and not guarded:
                        guarded = True
                        at = phases[-1] if phases else None
                        where = f"{at.phase} {at.message}" if at else "start-up"
                        stopper.append(asyncio.create_task(manager.cancel()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 0.2)

    stopper: list[asyncio.Task[bool]] = []
    phases: list[Any] = []
    where = ""
    checkpoint_dir = workdir / f"checkpoints-{len(train)}"
    checkpoints = (list(checkpoint_steps), checkpoint_dir) if checkpoint_steps else None

    sampler = asyncio.create_task(sample())
    try:
        result = await manager.train_now(
            on_progress=phases.append,
            data=_training_data(train, heldout),
            max_steps=max_steps,
            checkpoints=checkpoints,
        )
    finally:
        done.set()
        await sampler
        for task in stopper:
            await task
        await store.close()
    if guarded:
        reason = (
            f"stopped: the worker passed the memory guard ({guard / 2**30:.1f} GB) while {where}"
        )
        result = result.model_copy(update={"status": "failed", "reason": reason})
    saved = {
        step: checkpoint_dir / f"step-{step}"
        for step in checkpoint_steps
        if (checkpoint_dir / f"step-{step}" / "adapter_config.json").is_file()
    }
    return {
        "result": result,
        "peak_rss": peak,
        "adapter": paths.adapters / result.version if result.version else None,
        "checkpoints": saved,
        "settings": settings.training,
    }


def score_adapters(
    adapters: dict[str, Path], heldout: Sequence[dict[str, Any]], beta: float
) -> dict[str, dict[str, float | None]]:
    """Held-out preference accuracy and mean margin of each adapter (base scored once)."""
    from tether.training import metrics
    from tether.training.scoring import adapter_logps, load_adapter_model

    names = list(adapters)
    am = load_adapter_model(adapters[names[0]], version=names[0], beta=beta, device="cpu")
    for name in names[1:]:
        am.model.load_adapter(str(adapters[name]), adapter_name=name)
    prompts = [p["prompt"] for p in heldout] * 2
    completions = [p["chosen"] for p in heldout] + [p["rejected"] for p in heldout]
    n = len(heldout)
    base = adapter_logps(am, prompts, completions, adapter=None, max_length=MAX_LENGTH)
    out: dict[str, dict[str, float | None]] = {}
    for name in names:
        lp = adapter_logps(am, prompts, completions, adapter=name, max_length=MAX_LENGTH)
        reward = [beta * (a - b) for a, b in zip(lp, base, strict=True)]
        out[name] = {
            "preference_accuracy": metrics.preference_accuracy(reward[:n], reward[n:]),
            "margin": metrics.mean_margin(reward[:n], reward[n:]),
        }
    return out


async def generation_acceptance(
    persona_spec: str,
    rewrites: Sequence[Rewrite],
    adapter: Path,
    workdir: Path,
    *,
    candidates: int = 4,
) -> dict[str, Any]:
    """What the persona says to proposals the embedded model writes itself, through the agent.

    Four ways to answer each held-out rewrite's request: the base model and the adapter
    greedily, and the adapter's sampled candidates taken in the model's own order or
    reranked by the adapter's implicit reward (the same samples, so only the order differs).
    """
    from bench.learning import workspace_spec
    from tether.agent import Agent
    from tether.agent.providers.embedded import EmbeddedProvider
    from tether.agent.spec import load_spec
    from tether.config import Settings

    persona = load_persona(persona_spec)
    persona.configure(drift_at=None)
    ws = workdir / "ws-generate"
    ws.mkdir(parents=True, exist_ok=True)
    (ws / "tether.toml").write_text(workspace_spec())
    active: list[tuple[str, Path] | None] = [None]
    student = EmbeddedProvider("smollm2", adapters=lambda: active[0])
    verdicts: dict[str, list[str]] = {
        "base": [],
        "adapter": [],
        "adapter_sampled": [],
        "adapter_reranked": [],
    }

    def judge(i: int, proposal: Any, text: str | None = None) -> str:
        if proposal is None:
            return "failed"
        v = persona(PersonaProposal.of(proposal, i, text))
        return str(v.kind)

    async def propose(rw: Rewrite, n: int) -> Any:
        settings = Settings(
            home=workdir / "home", context_lines=CONTEXT_LINES, candidates=n, rerank=True
        )
        agent = Agent(settings, load_spec(ws), None, ws, student=student)
        result = await agent.propose(rewrite_request(rw, ws))
        return result.proposals[0] if result.proposals else None

    started = time.perf_counter()
    for i, rw in enumerate(rewrites):
        active[0] = None
        verdicts["base"].append(judge(i, await propose(rw, 1)))
        active[0] = ("v-bench", adapter)
        verdicts["adapter"].append(judge(i, await propose(rw, 1)))
        sampled = await propose(rw, candidates)
        if sampled is None:
            verdicts["adapter_sampled"].append("failed")
            verdicts["adapter_reranked"].append("failed")
            continue
        order = [c.get("sample", 0) for c in sampled.meta.get("candidates", [])]
        first = sampled.candidates[order.index(min(order))].text if order else sampled.proposed
        verdicts["adapter_sampled"].append(judge(i, sampled, first))
        verdicts["adapter_reranked"].append(judge(i, sampled))
    await student.aclose()

    def summary(kinds: list[str]) -> dict[str, Any]:
        n = len(kinds)
        return {
            "n": n,
            "accepted": kinds.count("accept"),
            "corrected": kinds.count("correct"),
            "rejected": kinds.count("reject"),
            "failed": kinds.count("failed"),
            "acceptance": kinds.count("accept") / n if n else None,
        }

    return {
        "candidates": candidates,
        "seconds": time.perf_counter() - started,
        **{name: summary(kinds) for name, kinds in verdicts.items()},
    }


def run(
    *,
    sizes: Sequence[int] = (50, 100, 200),
    heldout: int = 40,
    quick: bool = False,
    persona: str = "modernizer",
    seed: int = 0,
    generate: int = 16,
) -> dict[str, Any]:
    os.environ.setdefault("TETHER_MODEL_CACHE", str(REPO / ".tether-test" / "models"))
    largest = 8 if quick else max(sizes)
    need = largest + heldout
    with tempfile.TemporaryDirectory(prefix="tether-bench-train-") as tmp:
        workdir = Path(tmp)
        t0 = time.perf_counter()
        # short functions, so that the prompt and both answers fit in max_length
        rewrites = [r for r in stream(6 * need, seed=seed) if r.end_line - r.start_line <= 12]
        made = asyncio.run(persona_pairs(persona, rewrites, workdir))
        tok = tokenizer()
        for p in made:
            p["tokens"] = pair_tokens(tok, p)
        fits = [p for p in made if p["tokens"][0] + max(p["tokens"][1:3]) <= MAX_LENGTH]
        if quick:  # the shortest pairs, so two steps fit in the everyday run's budget
            fits.sort(key=lambda p: sum(p["tokens"][:3]))
        pairs = fits[:need]
        if len(pairs) < need:
            raise RuntimeError(f"only {len(pairs)} persona pairs fit in {MAX_LENGTH} tokens")
        held, pool = pairs[-heldout:], pairs[:-heldout]
        prep_s = time.perf_counter() - t0
        peak = matmul_peak()
        shapes = model_shapes()
        from tether.config import TrainingSettings

        batch = TrainingSettings().batch_size
        curve_steps = [] if quick else [math.ceil(k / batch) for k in sizes if k < largest]
        out = asyncio.run(
            train_once(
                pool[:largest],
                held,
                workdir,
                max_steps=2 if quick else None,
                checkpoint_steps=curve_steps,
            )
        )
        r = out["result"]
        hyper = out["settings"]
        steps = r.steps or 0
        train = pool[:largest]
        trained = train[: min(len(train), steps * hyper.batch_size)] if steps else []
        # what the worker really ran: with prefix sharing on, each pair's common start once
        shared = bool(r.prefix_saved)
        flops = sum(pair_flops(shapes, p["tokens"], hyper.lora_r, shared=shared) for p in trained)
        tokens = sum(2 * p["tokens"][0] + p["tokens"][1] + p["tokens"][2] for p in trained)
        train_s = r.train_seconds or 0.0
        m = r.metrics
        run_row = {
            "pairs": len(train),
            "status": r.status,
            "reason": r.reason,
            "method": r.method,
            "steps": steps,
            "pairs_trained": len(trained),
            "seconds_total": r.seconds,
            "seconds_train": train_s,
            "seconds_per_step": r.seconds_per_step,
            "tokens": tokens,
            "tokens_per_s": tokens / train_s if train_s else None,
            "peak_rss_mb": out["peak_rss"] / 2**20,
            "flops": flops,
            "achieved_flops": flops / train_s if train_s else None,
            "device": r.device,
            "prefix_shared": shared,
            "prefix_saved": r.prefix_saved,
            "heldout_pairs": len(held),
            "base_preference_accuracy": m.base.preference_accuracy if m else None,
            "base_policy_accuracy": m.base.policy_accuracy if m else None,
            "candidate_preference_accuracy": m.candidate.preference_accuracy if m else None,
            "candidate_policy_accuracy": m.candidate.policy_accuracy if m else None,
            "candidate_margin": m.candidate.pairs_margin if m else None,
            "gate": r.gate.reason if r.gate else None,
        }
        curve = []
        if out["checkpoints"]:
            scored = score_adapters(
                {f"step-{k}": v for k, v in out["checkpoints"].items()}, held, hyper.beta
            )
            for step, _ in sorted(out["checkpoints"].items()):
                sc = scored[f"step-{step}"]
                curve.append({"steps": step, "pairs": step * hyper.batch_size, **sc})
        if m is not None:
            curve.append(
                {
                    "steps": steps,
                    "pairs": len(trained),
                    "preference_accuracy": m.candidate.preference_accuracy,
                    "margin": m.candidate.pairs_margin,
                }
            )
        generation = None
        if not quick and generate and out["adapter"] is not None:
            gen_rewrites = [rewrites[p["rewrite"]] for p in held[:generate]]
            generation = asyncio.run(
                generation_acceptance(persona, gen_rewrites, out["adapter"], workdir)
            )
    # The peak is measured before and after training and the best kept: on a shared machine a
    # single measurement can land in a busy moment and make the fraction look too good.
    after = matmul_peak()
    if after["flops"] > peak["flops"]:
        peak = after
    run_row["flops_fraction"] = (
        run_row["achieved_flops"] / peak["flops"] if run_row["achieved_flops"] else None
    )
    per_pair = [pair_flops(shapes, p["tokens"], hyper.lora_r, shared=shared) for p in pool]
    mean_pair_flops = sum(per_pair) / len(per_pair) if per_pair else 0.0
    mean_pair_tokens = sum(2 * p["tokens"][0] + p["tokens"][1] + p["tokens"][2] for p in pool) / (
        len(pool) or 1
    )
    rate = run_row["achieved_flops"]
    return {
        "persona": persona,
        "mean_tokens_per_pair": mean_pair_tokens,
        "mean_prompt_tokens": sum(p["tokens"][0] for p in pool) / (len(pool) or 1),
        "gflop_per_pair": mean_pair_flops / 1e9,
        # what 200 pairs (one epoch) cost: at this machine's matmul peak, and at this run's rate
        "minutes_200_pairs_at_peak": 200 * mean_pair_flops / peak["flops"] / 60,
        "minutes_200_pairs_at_measured_rate": 200 * mean_pair_flops / rate / 60 if rate else None,
        "pairs_available": len(pool),
        "heldout": len(held),
        "max_length": MAX_LENGTH,
        "context_lines": CONTEXT_LINES,
        "pairs_made": len(made),
        "pairs_too_long": len(made) - len(fits),
        "prepare_seconds": prep_s,
        "matmul_peak": peak,
        "shapes": shapes,
        "runs": [run_row],
        "curve": curve,
        "generation": generation,
    }
