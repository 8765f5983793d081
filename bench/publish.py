"""Publish benchmark: publish time, llama.cpp parity, `tether serve` latency and throughput.

- A LoRA adapter is trained for a few steps on the embedded SmolLM2 (so it moves the
  logits), made the active adapter of a fresh store, and published (`publish()` with the
  gate thresholds at 0): total time and its parts (copy, GGUF adapter, manifest).
- Parity: llama.cpp (llama-cpp-python) with the bundle's base GGUF and GGUF adapter
  against transformers + PEFT, greedy, on the fixed prompts of `tether.publish.parity`;
  once on the quantized base as published (Q4_1: llama.cpp computes on the quantized
  blocks, transformers on dequantized floats) and once on the float32 re-export of the
  same weights (the adapter conversion alone).
- Serve: a real `tether serve` process; `/v1/propose` from 1, 4 and 16 concurrent clients
  (httpx), latency p50/p99 and requests per second; with the in-process embedded model
  and with a replay model (the API, agent, verifier and store without generation).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

#: What the benchmark adapter is trained to prefer: typed Python.
TEXT = (
    "<|im_start|>user\nAdd type hints:\ndef add(a, b):\n    return a + b<|im_end|>\n"
    "<|im_start|>assistant\n```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```"
    "<|im_end|>\n"
)
SNIPPETS = [
    "def add(a, b):\n    return a+b\n",
    "def greet(name):\n    return 'Hello ' + name\n",
    "def is_empty(x):\n    if x == None:\n        return True\n    return False\n",
    "def total(values):\n    result = 0\n    for v in values:\n        result = result + v\n"
    "    return result\n",
]
#: The serve runs' answer budget (the agent's default is 256): the same for every backend.
MAX_NEW_TOKENS = 64
TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def train_small_adapter(out: Path, *, steps: int = 4, rank: int = 4, layers: int = 6) -> Path:
    """LoRA (rank 4, alpha 8) on the linear layers of the top `layers` blocks, trained for
    `steps` AdamW steps on one example at a high learning rate, so it moves the logits."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tether.embedded import ensure_plain_model

    torch.manual_seed(0)
    directory = ensure_plain_model()
    tokenizer = AutoTokenizer.from_pretrained(directory)
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32)
    n_layers = model.config.num_hidden_layers
    config = LoraConfig(
        r=rank,
        lora_alpha=2 * rank,
        target_modules=TARGET_MODULES,
        layers_to_transform=list(range(n_layers - layers, n_layers)),
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, config)
    ids = tokenizer(TEXT, return_tensors="pt").input_ids
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-2)
    model.train()
    for _ in range(steps):
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.save_pretrained(out)
    return out


async def activate(store: Any, adapter: Path, *, accuracy: float = 0.9) -> None:
    """Register `adapter` as v1 with a held-out accuracy, promoted by a chained row."""
    from tether.core.types import Actor, Outcome, utcnow
    from tether.decisions.models import AdapterRow, DecisionContent

    metrics = {
        "metric": "preference_accuracy",
        "candidate": accuracy,
        "preference_accuracy": accuracy,
    }
    await store.put_adapter(
        AdapterRow(
            version="v1",
            created_at=utcnow(),
            status="candidate",
            path=str(adapter),
            metrics=metrics,
        )
    )
    await store.activate_adapter(
        "v1",
        DecisionContent(
            ts=utcnow(),
            outcome=Outcome.ADAPTER_PROMOTED,
            actor=Actor.SYSTEM,
            adapter_version="v1",
            data={"version": "v1", **metrics},
        ),
    )


async def _publish(ws: Path, adapter: Path) -> Any:
    from tether.config import load_settings
    from tether.decisions import DecisionStore
    from tether.paths import WorkspacePaths
    from tether.publish.bundle import PublishRequest, publish

    (ws / "tether.toml").write_text(
        "[publish]\nmin_mature_share = 0\nmin_preference_accuracy = 0\n"
    )
    settings = load_settings(ws)
    paths = WorkspacePaths(ws, settings.data_root).ensure()
    async with await DecisionStore.open(paths.db) as store:
        await activate(store, adapter)
        return await publish(store, paths, settings, PublishRequest())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_serving(proc: subprocess.Popen[str], what: str) -> list[str]:
    """Block until a uvicorn-based server says it is running (its output keeps draining);
    the lines it printed so far (and, as it goes on, after)."""
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "Uvicorn running on" in line:
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(300) or proc.poll() is not None:
        proc.kill()
        raise RuntimeError(f"{what} did not start:\n" + "".join(lines[-20:]))
    return lines


def _start_serve(
    ws: Path, model: str, extra: list[str] | None = None
) -> tuple[subprocess.Popen[str], str, str]:
    (ws / "tether.toml").write_text(
        f'model = "{model}"\nmax_new_tokens = {MAX_NEW_TOKENS}\nrequest_timeout = 900\n'
        "[serve]\nrate_limit_per_minute = 100000\n"
    )
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tether", "serve", "-w", str(ws), "--port", str(port)]
        + (extra or []),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines = _wait_until_serving(proc, "tether serve")
    token = next(line for line in lines if "new token" in line).rsplit(": ", 1)[1].strip()
    return proc, f"http://127.0.0.1:{port}", token


async def _load(
    url: str, token: str, clients: int, requests: int, snippets: list[str]
) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    statuses: list[int] = []
    gate = asyncio.Semaphore(clients)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=600
    ) as client:

        async def one(i: int) -> None:
            async with gate:
                t0 = time.perf_counter()
                r = await client.post(
                    "/v1/propose", json={"code": snippets[i % len(snippets)], "path": f"b{i}.py"}
                )
                latencies.append(time.perf_counter() - t0)
                statuses.append(r.status_code)

        await one(-1)  # warm-up (loads the model in-process), not counted
        latencies.clear()
        statuses.clear()
        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(requests)))
        wall = time.perf_counter() - t0
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "clients": clients,
        "requests": requests,
        # 503: the model answered but nothing survived the verifier (no proposal); others: errors
        "no_proposal": statuses.count(503),
        "errors": sum(code not in (200, 503) for code in statuses),
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": p99 * 1000,
        "req_per_s": requests / wall,
    }


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def _serve(
    tmp: Path,
    model: str,
    levels: list[tuple[int, int]],
    *,
    engine: str | None = None,
    snippets: list[str] = SNIPPETS,
) -> list[dict[str, Any]]:
    ws = tmp / f"serve-{model.split(':')[0]}-{'engine' if engine else 'local'}"
    ws.mkdir()
    extra = ["--backend", "llamacpp", "--engine-url", engine] if engine else []
    proc, url, token = _start_serve(ws, model, extra)
    try:
        return [asyncio.run(_load(url, token, c, n, snippets)) for c, n in levels]
    finally:
        _stop(proc)


def _llama_server(base: Path, adapter: Path) -> tuple[subprocess.Popen[str], str]:
    """llama.cpp's OpenAI-compatible server (llama-cpp-python[server]) on base + adapter."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(base),
            "--lora_path",
            str(adapter),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--model_alias",
            "tether",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _wait_until_serving(proc, "llama.cpp's server")
    return proc, f"http://127.0.0.1:{port}"


def bench(result: Any, options: dict[str, Any]) -> None:
    from bench.results import Table, Target
    from tether.core.response_format import render_completion
    from tether.publish.bundle import ADAPTER_GGUF, BASE_GGUF
    from tether.publish.gguf_base import export_float
    from tether.publish.parity import PROMPTS, check_parity

    prompts = PROMPTS[: options.get("prompts", len(PROMPTS))]
    tokens = options.get("tokens", 24)
    with tempfile.TemporaryDirectory(prefix="tether-bench-publish-") as name:
        tmp = Path(name)
        adapter = train_small_adapter(tmp / "adapter")
        ws = tmp / "ws"
        ws.mkdir()
        published = asyncio.run(_publish(ws, adapter))
        bundle = Path(published.path)
        reports = {
            "q4_1 (as published)": check_parity(
                bundle / BASE_GGUF,
                bundle / ADAPTER_GGUF,
                bundle / "adapter",
                prompts=prompts,
                max_new_tokens=tokens,
            )
        }
        f32 = export_float(bundle / BASE_GGUF, tmp / "base-f32.gguf")
        reports["f32 re-export"] = check_parity(
            f32, bundle / ADAPTER_GGUF, bundle / "adapter", prompts=prompts, max_new_tokens=tokens
        )
        replay = tmp / "replay.jsonl"
        replay.write_text(
            json.dumps(
                {
                    "completion": render_completion(
                        SNIPPETS[0].replace("a, b", "a: int, b: int"), "python", "Hints."
                    )
                }
            )
            + "\n"
        )
        levels = options.get("levels", [(1, 8), (4, 16), (16, 32)])
        embedded_levels = options.get("embedded_levels", levels)
        serve = {
            "embedded (in process)": _serve(tmp, "embedded:smollm2", embedded_levels),
            # the recorded answer fits the first snippet only
            "replay (no model)": _serve(tmp, f"replay:{replay}", levels, snippets=SNIPPETS[:1]),
        }
        # The same through llama.cpp's server (f32 base: its AMX buffers crash on Q4_1).
        engine, engine_url = _llama_server(f32, bundle / ADAPTER_GGUF)
        try:
            serve["llama.cpp server (f32 + adapter)"] = _serve(
                tmp, "embedded:smollm2", embedded_levels, engine=engine_url
            )
        finally:
            _stop(engine)
    result.metrics = {
        "publish_s": published.seconds,
        "publish_timings": published.timings,
        "bundle_bytes": published.bytes,
        "parity": {k: r.model_dump(mode="json") for k, r in reports.items()},
        "serve": serve,
    }
    f32_report = reports["f32 re-export"]
    q_report = reports["q4_1 (as published)"]
    result.targets = [
        Target(
            name="parity on the f32 re-export (prompts token-equal)",
            value=f32_report.equal_count,
            target=len(prompts),
            op=">=",
        ),
        Target(
            name="parity on the published Q4_1 base (prompts token-equal)",
            value=q_report.equal_count,
            target=len(prompts),
            op=">=",
        ),
    ]
    result.tables = [
        Table(
            title="Publish (embedded SmolLM2-135M base, LoRA r=4 on 6 layers)",
            headers=["total s", "copy s", "GGUF adapter s", "manifest s", "bundle MB"],
            rows=[
                [
                    round(published.seconds, 2),
                    round(published.timings.get("copy", 0), 2),
                    round(published.timings.get("gguf_adapter", 0), 2),
                    round(published.timings.get("manifest", 0), 2),
                    round(published.bytes / 1e6, 1),
                ]
            ],
        ),
        Table(
            title=f"llama.cpp parity (greedy, {tokens} tokens, {len(prompts)} prompts)",
            headers=[
                "base GGUF",
                "token-equal",
                "max |Δlogit|",
                "median |Δlogit|",
                "min adapter effect",
                "first differences",
            ],
            rows=[
                [
                    name,
                    f"{r.equal_count}/{len(r.prompts)}",
                    f"{max(p.max_logit_diff for p in r.prompts):.2e}",
                    f"{statistics.median(p.max_logit_diff for p in r.prompts):.2e}",
                    f"{min(p.adapter_effect for p in r.prompts):.2e}",
                    ", ".join(
                        str(p.first_difference) for p in r.prompts if p.first_difference is not None
                    )
                    or "-",
                ]
                for name, r in reports.items()
            ],
        ),
        Table(
            title=f"tether serve: POST /v1/propose (max_new_tokens {MAX_NEW_TOKENS})",
            headers=[
                "model",
                "clients",
                "requests",
                "no proposal",
                "errors",
                "p50 ms",
                "p99 ms",
                "req/s",
            ],
            rows=[
                [
                    model,
                    s["clients"],
                    s["requests"],
                    s["no_proposal"],
                    s["errors"],
                    round(s["p50_ms"]),
                    round(s["p99_ms"]),
                    round(s["req_per_s"], 2),
                ]
                for model, runs in serve.items()
                for s in runs
            ],
        ),
    ]
    result.notes = [
        "Parity feeds both sides the same token ids (Hugging Face tokenizer); 'first differences' "
        "is the index of the first differing generated token per prompt that differed.",
        "The Q4_1 row is the bundle as published: llama.cpp multiplies quantized blocks while "
        "transformers runs float32 on the dequantized weights, so near-ties can flip.",
        "llama.cpp's AMX extra buffers crash on the Q4_1 file in this build; parity runs on the "
        "plain CPU buffers (see tether.publish.parity.load_llama).",
        "Serve: one model call at a time per workspace (the service's lock), so the in-process "
        "backend's throughput does not grow with clients; an engine backend batches.",
    ]
