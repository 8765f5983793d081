"""Training benchmark: Tether's trainer against stock TRL, side by side, on the same pairs.

Pairs: the agent (replay provider, so no model is needed to propose) writes the prompt for
each rewrite exactly as it would for the embedded model; the persona's verdict orders the
two answers (accepted: the rewrite over the untouched code; rejected: the other way round;
corrected: the persona's text over the rewrite). A fixed held-out set of pairs, never
trained on, measures preference accuracy.

Runs, one after the other on this machine:
1. Tether's first run (TrainingManager -> worker -> TetherDPOTrainer): LoRA on the top K
   layers, the frozen layers once per pair, reference log-probs precomputed, caches cold.
2. Tether's retrain after `extra` new pairs, in the same workspace: the caches serve the
   pairs seen before, only the new ones run the frozen layers and the reference.
3. Stock TRL (`bench.training_stock`, its own process): DPOTrainer + PEFT all-linear LoRA,
   fp32, no gradient checkpointing, same hyperparameters and pairs (or the first
   `stock_pairs` of them, when the machine's time is short: then its epoch time is
   extrapolated per pair and labelled so).

FLOPs are counted from the model's shapes and the real token counts (`pair_flops`): every
linear layer on every position it runs, attention (causal half for stock rows, the whole
square for Tether's packed pairs, which a masked attention computes), the LM head where it
runs (stock TRL on the CPU projects every position; Tether only the scored ones), LoRA;
a backward through frozen weights costs one forward (activation gradients), attention and
LoRA two. Tether's frozen layers are counted on the positions the run reports it ran
(`frozen_positions`): prompt starts many pairs share run once (`shared_start_flops`).
"""

from __future__ import annotations

import asyncio
import contextlib
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
        # as if read from a log whose head is the newest training pair, so a later run with
        # more pairs sees which are new (an incremental retrain)
        decision_range=DecisionRange(first_seq=1, last_seq=len(train), head_seq=len(train)),
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


def _layer_costs(shapes: dict[str, int], lora_r: int) -> tuple[float, float]:
    """(linear FLOPs per position per layer, LoRA FLOPs per position per layer), forward."""
    h, inter, kv = shapes["hidden"], shapes["inter"], shapes["kv"]
    linear = 2 * (2 * h * h + 2 * h * kv + 3 * h * inter)
    lora = 2 * lora_r * ((h + h) * 2 + (h + kv) * 2 + (h + inter) * 3)
    return linear, lora


def stock_pair_flops(shapes: dict[str, int], tokens: Sequence[int], lora_r: int) -> float:
    """Stock TRL on the CPU: each row through every layer for the policy (forward and
    backward) and the reference, the LM head on every position of every row."""
    prompt, chosen, rejected, _ = tokens
    layers, h, vocab = shapes["layers"], shapes["hidden"], shapes["vocab"]
    linear, lora = _layer_costs(shapes, lora_r)
    total = 0.0
    for n in (prompt + chosen, prompt + rejected):
        attn = 4 * h * n * (n + 1) / 2
        forward = layers * (linear * n + attn)
        policy = forward + layers * lora * n + (forward + layers * (attn + 2 * lora * n))
        head = 2 * h * vocab * (n - 1)
        total += policy + forward + 3 * head  # policy fwd+bwd, reference fwd; head x3
    return total


def tether_pair_flops(
    shapes: dict[str, int], tokens: Sequence[int], lora_r: int, top: int, *, cached: bool
) -> float:
    """Tether: the pair packed (shared start once), the frozen layers and the top K layers'
    reference pass once (skipped when `cached`), the top K with the adapter forward and
    backward, the LM head on the scored positions only."""
    prompt, chosen, rejected, common = tokens
    layers, h, vocab = shapes["layers"], shapes["hidden"], shapes["vocab"]
    linear, lora = _layer_costs(shapes, lora_r)
    n = 2 * prompt + chosen + rejected - common
    scored = chosen + rejected
    attn = 4 * h * n * n
    head = 2 * h * vocab * scored
    policy = top * (2 * linear * n + 3 * lora * n + 3 * attn) + 2 * head
    once = (layers - top) * (linear * n + attn) + top * (linear * n + attn) + head
    return policy + (0.0 if cached else once)


def shared_start_flops(
    shapes: dict[str, int],
    lora_r: int,
    top: int,
    cache: dict[str, int],
    computed: Sequence[Sequence[int]],
) -> float:
    """The frozen layers' linear FLOPs a run did not spend because prompt starts shared by
    many pairs ran once (`frozen_prefix.PrefixBank`): the positions `tether_pair_flops`
    counts for the pairs it computed (`computed`: their token counts) minus the positions
    the run reports it ran (`frozen_positions`, shared starts included). Attention is left
    as counted (each pair's tokens still attend to the whole start)."""
    if "frozen_positions" not in cache:
        return 0.0
    linear, _ = _layer_costs(shapes, lora_r)
    planned = sum(2 * t[0] + t[1] + t[2] - t[3] for t in computed)
    return (shapes["layers"] - top) * linear * max(0, planned - cache["frozen_positions"])


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


async def _sample_rss(pid: Any, done: asyncio.Event, peak: list[float], guard: int) -> bool:
    """Track the peak RSS of the process `pid()` names (and its children) until `done`, and
    its CPU seconds (peak[1]: user + system, its last sample); True when it passed `guard`
    (the caller stops it)."""
    import psutil

    while not done.is_set():
        current = pid()
        if current is not None:
            with contextlib.suppress(psutil.Error):
                proc = psutil.Process(current)
                rss = proc.memory_info().rss + sum(
                    c.memory_info().rss for c in proc.children(recursive=True)
                )
                peak[0] = max(peak[0], rss)
                times = proc.cpu_times()
                peak[1] = times.user + times.system + times.children_user + times.children_system
                if rss > guard:
                    return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 0.2)
    return False


def _guard() -> int:
    import psutil

    memory = psutil.virtual_memory()
    return int(min(memory.total * MEMORY_GUARD_SHARE, memory.available * 0.9))


async def train_once(
    train: Sequence[dict[str, Any]],
    heldout: Sequence[dict[str, Any]],
    workdir: Path,
    *,
    name: str = "ws",
    training: dict[str, Any] | None = None,
    max_steps: int | None = None,
    checkpoint_steps: Sequence[int] = (),
    force: bool = False,
) -> dict[str, Any]:
    """One TrainingManager run on prepared data in workspace `name` (a second run in the
    same workspace finds the first one's training cache and continues its adapter, unless
    `force`); returns its result, the worker's peak RSS, the adapter's folder and the
    checkpoints saved on the way."""
    from tether.config import Settings
    from tether.decisions import DecisionStore
    from tether.paths import WorkspacePaths
    from tether.training import TrainingManager

    ws = workdir / name
    ws.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        home=workdir / "home", training={"max_length": MAX_LENGTH, **(training or {})}
    )
    paths = WorkspacePaths(ws, settings.data_root).ensure()
    store = await DecisionStore.open(paths.db)
    manager = TrainingManager(store, paths, settings)
    peak = [0.0, 0.0]
    done = asyncio.Event()
    guard = _guard()
    checkpoint_dir = workdir / f"checkpoints-{name}-{len(train)}"
    checkpoints = (list(checkpoint_steps), checkpoint_dir) if checkpoint_steps else None
    phases: list[Any] = []

    async def watch() -> bool:
        over = await _sample_rss(lambda: manager.worker_pid, done, peak, guard)
        if over:
            await manager.cancel()
        return over

    sampler = asyncio.create_task(watch())
    try:
        result = await manager.train_now(
            on_progress=phases.append,
            data=_training_data(train, heldout),
            max_steps=max_steps,
            checkpoints=checkpoints,
            force=force,
        )
    finally:
        done.set()
        guarded = await sampler
        await store.close()
    if guarded:
        at = phases[-1] if phases else None
        where = f"{at.phase} {at.message}" if at else "start-up"
        reason = f"stopped: the worker passed the memory guard ({guard / 2**30:.1f} GB) in {where}"
        result = result.model_copy(update={"status": "failed", "reason": reason})
    saved = {
        step: checkpoint_dir / f"step-{step}"
        for step in checkpoint_steps
        if (checkpoint_dir / f"step-{step}" / "adapter_config.json").is_file()
    }
    return {
        "result": result,
        "peak_rss": peak[0],
        "cpu_seconds": peak[1],
        "adapter": paths.adapters / result.version if result.version else None,
        "checkpoints": saved,
        "settings": settings.training,
    }


async def stock_once(
    train: Sequence[dict[str, Any]], heldout: Sequence[dict[str, Any]], workdir: Path, hyper: Any
) -> dict[str, Any]:
    """Stock TRL in its own process (`bench.training_stock`); its result and peak RSS."""
    import json
    import sys

    job = {
        "hyper": hyper.model_dump(),
        "train": [{k: p[k] for k in ("prompt", "chosen", "rejected")} for p in train],
        "heldout": [{k: p[k] for k in ("prompt", "chosen", "rejected")} for p in heldout],
        "workdir": str(workdir),
    }
    job_file, out_file = workdir / "stock-job.json", workdir / "stock-out.json"
    job_file.write_text(json.dumps(job))
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "HF_HUB_OFFLINE": "1"}
    log = (workdir / "stock.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.training_stock",
        str(job_file),
        str(out_file),
        cwd=str(REPO),
        env=env,
        stdout=log,
        stderr=log,
    )
    peak, done = [0.0, 0.0], asyncio.Event()
    guard = _guard()

    async def watch() -> bool:
        over = await _sample_rss(
            lambda: proc.pid if proc.returncode is None else None, done, peak, guard
        )
        if over:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        return over

    sampler = asyncio.create_task(watch())
    code = await proc.wait()
    done.set()
    guarded = await sampler
    log.close()
    if code != 0 or guarded:
        tail = (workdir / "stock.log").read_text(errors="replace")[-1500:]
        why = "passed the memory guard" if guarded else f"exit code {code}"
        return {"status": "failed", "reason": f"stock run: {why}\n{tail}", "peak_rss": peak[0]}
    out = json.loads(out_file.read_text())
    return {"status": "done", **out, "peak_rss": peak[0], "cpu_seconds": peak[1]}


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


def _row(
    name: str,
    *,
    pairs: int,
    status: str,
    reason: str,
    prepare: float,
    train: float,
    steps: int,
    rss: int,
    flops: float,
    accuracy: float | None,
    margin: float | None,
    **extra: Any,
) -> dict[str, Any]:
    seconds = prepare + train
    cpu = extra.pop("cpu_seconds", None)
    return {
        "run": name,
        "pairs": pairs,
        "status": status,
        "reason": reason,
        "steps": steps,
        "seconds_prepare": prepare,
        "seconds_train": train,
        "seconds": seconds,
        "peak_rss_mb": rss / 2**20,
        "cpu_seconds": cpu,  # of the training process, start to end (load-independent-ish)
        "flops": flops,
        "gflop_per_pair": flops / pairs / 1e9 if pairs else None,
        "achieved_flops": flops / seconds if seconds else None,
        "preference_accuracy": accuracy,
        "margin": margin,
        **extra,
    }


def _tether_row(name: str, out: dict[str, Any], flops: float, pairs: int) -> dict[str, Any]:
    r = out["result"]
    m = r.metrics
    return _row(
        name,
        pairs=pairs,
        status=r.status,
        reason=r.reason,
        prepare=r.prepare_seconds or 0.0,
        train=r.train_seconds or 0.0,
        steps=r.steps,
        rss=out["peak_rss"],
        cpu_seconds=out.get("cpu_seconds"),
        flops=flops,
        accuracy=m.candidate.preference_accuracy if m else None,
        margin=m.candidate.pairs_margin if m else None,
        base_accuracy=m.base.preference_accuracy if m else None,
        lora_layers=r.lora_layers,
        cache=r.cache,
        trainable_parameters=r.trainable_parameters,
        prefix_saved=r.prefix_saved,
        warnings=r.warnings,
        device=r.device,
    )


def run(
    *,
    pairs: int = 200,
    extra: int = 20,
    heldout: int = 40,
    quick: bool = False,
    persona: str = "modernizer",
    seed: int = 0,
    stock_pairs: int | None = None,
    lora_layers: int | None = None,
    generate: int = 0,
    forced: bool = True,
) -> dict[str, Any]:
    """Tether's first run, its retrain after `extra` new pairs, and stock TRL (on the first
    `stock_pairs` pairs only, when given: its epoch time is then extrapolated per pair)."""
    os.environ.setdefault("TETHER_MODEL_CACHE", str(REPO / ".tether-test" / "models"))
    first_n, extra_n = (8, 2) if quick else (pairs, extra)
    need = first_n + extra_n + heldout
    with tempfile.TemporaryDirectory(prefix="tether-bench-train-") as tmp:
        workdir = Path(tmp)
        t0 = time.perf_counter()
        # short functions, so that the prompt and both answers fit in max_length
        # the same rewrites, first pairs and held-out pairs as before the retrain was added
        # (6 per pair trained or held out), the extra pairs after them
        base_need = first_n + heldout
        count = 6 * (need if quick else base_need)
        rewrites = [r for r in stream(count, seed=seed) if r.end_line - r.start_line <= 12]
        made = asyncio.run(persona_pairs(persona, rewrites, workdir))
        tok = tokenizer()
        for p in made:
            p["tokens"] = pair_tokens(tok, p)
        fits = [p for p in made if p["tokens"][0] + max(p["tokens"][1:3]) <= MAX_LENGTH]
        if quick:  # the shortest pairs, so the everyday run stays inside its budget
            fits.sort(key=lambda p: sum(p["tokens"][:3]))
        chosen_pairs = fits[:need]
        if len(chosen_pairs) < need:
            raise RuntimeError(f"only {len(chosen_pairs)} persona pairs fit in {MAX_LENGTH} tokens")
        first = chosen_pairs[:first_n]
        held = chosen_pairs[first_n:base_need]
        more = first + chosen_pairs[base_need:]
        prep_s = time.perf_counter() - t0
        load = {"before": os.getloadavg()}
        peak = matmul_peak()
        shapes = model_shapes()
        training = {} if lora_layers is None else {"lora_layers": lora_layers}

        one = asyncio.run(train_once(first, held, workdir, name="ws", training=training))
        load["after_first"] = os.getloadavg()
        two = asyncio.run(train_once(more, held, workdir, name="ws", training=training))
        load["after_retrain"] = os.getloadavg()
        three = None
        if forced:  # the same data from the base model (--force): every feature cached
            three = asyncio.run(
                train_once(more, held, workdir, name="ws", training=training, force=True)
            )
            load["after_forced"] = os.getloadavg()
        from tether.training.models import Hyperparameters

        hyper = Hyperparameters.of(one["settings"])
        stock_n = min(len(first), 4 if quick else (stock_pairs or len(first)))
        stock = asyncio.run(stock_once(first[:stock_n], held, workdir, hyper))
        load["after_stock"] = os.getloadavg()
        generation = None
        if generate and one["adapter"] is not None:
            gen_rewrites = [rewrites[p["rewrite"]] for p in held[:generate]]
            generation = asyncio.run(
                generation_acceptance(persona, gen_rewrites, one["adapter"], workdir)
            )
    # The peak is measured before and after and the best kept: on a shared machine a single
    # measurement can land in a busy moment and make the fractions look too good.
    after = matmul_peak()
    if after["flops"] > peak["flops"]:
        peak = after

    r1 = one["result"]
    top = r1.lora_layers or shapes["layers"]
    lora_r = hyper.lora_r
    first_flops = sum(
        tether_pair_flops(shapes, p["tokens"], lora_r, top, cached=False) for p in first
    ) - shared_start_flops(shapes, lora_r, top, r1.cache, [p["tokens"] for p in first])
    known = {p["proposal_id"] for p in first}
    r2 = two["result"]
    trained = list(more)
    if r2.warm_start is not None:  # the new pairs and the replayed ones (incremental.plan)
        import hashlib

        def order(p: dict[str, Any]) -> str:
            return hashlib.sha256(f"{hyper.seed}:{p['proposal_id']}".encode()).hexdigest()

        new = [p for p in more if p["proposal_id"] not in known]
        replayed = sorted(first, key=order)[: max(0, r2.train_examples - len(new))]
        trained = new + replayed
    new_tokens = [p["tokens"] for p in trained if p["proposal_id"] not in known]
    retrain_flops = sum(
        tether_pair_flops(shapes, p["tokens"], lora_r, top, cached=p["proposal_id"] in known)
        for p in trained
    ) - shared_start_flops(shapes, lora_r, top, r2.cache, new_tokens)
    forced_flops = sum(
        tether_pair_flops(shapes, p["tokens"], lora_r, top, cached=True) for p in more
    )
    runs = [
        _tether_row("Tether, first run", one, first_flops, len(first)),
        _tether_row(
            f"Tether, retrain after +{len(more) - len(first)} pairs (incremental)",
            two,
            retrain_flops,
            len(trained),
        ),
    ]
    if three is not None:
        runs.append(
            _tether_row(
                f"Tether, the same from the base model (--force, {len(more)} pairs cached)",
                three,
                forced_flops,
                len(more),
            )
        )
    stock_flops = sum(stock_pair_flops(shapes, p["tokens"], lora_r) for p in first[:stock_n])
    if stock["status"] == "done":
        sm = stock["metrics"]["candidate"]
        runs.append(
            _row(
                "stock TRL DPOTrainer + PEFT all-linear",
                pairs=stock["pairs"],
                status="done",
                reason="",
                prepare=stock["prepare_seconds"],
                train=stock["train_seconds"],
                steps=stock["steps"],
                rss=stock["peak_rss"],
                cpu_seconds=stock.get("cpu_seconds"),
                flops=stock_flops,
                accuracy=sm["preference_accuracy"],
                margin=sm["pairs_margin"],
                trainable_parameters=stock["trainable_parameters"],
            )
        )
    else:
        runs.append(
            _row(
                "stock TRL DPOTrainer + PEFT all-linear",
                pairs=stock_n,
                status="failed",
                reason=stock["reason"],
                prepare=0.0,
                train=0.0,
                steps=0,
                rss=stock["peak_rss"],
                flops=0.0,
                accuracy=None,
                margin=None,
            )
        )
    for row in runs:
        row["flops_fraction"] = (
            row["achieved_flops"] / peak["flops"] if row["achieved_flops"] else None
        )
    ours, retrain, base = runs[0], runs[1], runs[-1]
    # a reduced stock run is scaled by FLOPs (its pairs' share of the whole epoch's work),
    # not by pair count, so shorter or longer pairs in the sample do not bend the estimate
    all_stock_flops = sum(stock_pair_flops(shapes, p["tokens"], lora_r) for p in first)
    scale = all_stock_flops / stock_flops if stock_flops else None
    cpu_speedup = None
    # (whole processes, loading and eval included: not scaled for a reduced stock run)
    if base.get("cpu_seconds") and ours.get("cpu_seconds") and stock_n == len(first):
        cpu_speedup = base["cpu_seconds"] / ours["cpu_seconds"]
    stock_epoch = base["seconds"] * scale if base["seconds"] and scale else None
    return {
        "persona": persona,
        "pairs": len(first),
        "extra": len(more) - len(first),
        "stock_pairs": stock_n,
        "stock_extrapolated": stock_n < len(first),
        "stock_epoch_seconds": stock_epoch,
        "speedup": stock_epoch / ours["seconds"] if stock_epoch and ours["seconds"] else None,
        "retrain_share": retrain["seconds"] / ours["seconds"] if ours["seconds"] else None,
        "cpu_speedup": cpu_speedup,  # the same ratio in CPU seconds of the processes
        "retrain_cpu_share": (
            retrain["cpu_seconds"] / ours["cpu_seconds"]
            if retrain.get("cpu_seconds") and ours.get("cpu_seconds")
            else None
        ),
        "accuracy_gap": (
            base["preference_accuracy"] - ours["preference_accuracy"]
            if base["preference_accuracy"] is not None and ours["preference_accuracy"] is not None
            else None
        ),
        "lora_layers": r1.lora_layers,
        "mean_tokens_per_pair": sum(
            2 * p["tokens"][0] + p["tokens"][1] + p["tokens"][2] for p in first
        )
        / (len(first) or 1),
        "mean_prompt_tokens": sum(p["tokens"][0] for p in first) / (len(first) or 1),
        "heldout": len(held),
        "max_length": MAX_LENGTH,
        "context_lines": CONTEXT_LINES,
        "pairs_made": len(made),
        "pairs_too_long": len(made) - len(fits),
        "prepare_seconds": prep_s,
        "matmul_peak": peak,
        "load_average": load,
        "shapes": shapes,
        "runs": runs,
        "generation": generation,
    }
