"""The real thing, once: `tether train` on SmolLM2-135M on the CPU, a handful of pairs, two
steps, a promoted adapter that peft loads and that changes what the model prefers."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tether.cli.main import main as cli
from tether.decisions import DecisionStore
from tether.decisions.signals import load_signals
from tether.paths import WorkspacePaths
from tether.training import load_adapter_model
from tether.training.lineage import read_lineage
from tether.training.scoring import adapter_logps

from .helpers import record_corrections

pytestmark = pytest.mark.slow

TOML = """
[training]
min_pairs_for_dpo = 2
batch_size = 2
learning_rate = 1e-3
max_length = 256
device = "cpu"
worker_nice = 0
"""


async def test_train_smollm2_on_cpu_and_use_the_adapter(
    ws_store: DecisionStore,
    ws_paths: WorkspacePaths,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (ws_paths.workspace / "tether.toml").write_text(TOML)
    await record_corrections(ws_store, 5)  # 4 to train on, the newest held out

    code = await asyncio.to_thread(
        cli, ["train", "--workspace", str(ws_paths.workspace), "--max-steps", "2", "--json"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    result = json.loads(out)
    assert result["status"] == "promoted", result["reason"]
    assert result["method"] == "dpo" and result["device"] == "cpu" and result["steps"] == 2
    with capsys.disabled():
        print(
            f"\nSmolLM2-135M DPO on CPU: {result['seconds_per_step']:.1f} s/step (batch 2), "
            f"{result['tokens'] / result['train_seconds']:.0f} tokens/s"
        )

    active = await ws_store.active_adapter()
    assert active is not None and active.version == result["version"] == "v1"
    lineage = read_lineage(Path(active.path))
    assert lineage.base_model == "embedded:smollm2" and lineage.heldout_pairs == 1

    # The student loads base + adapter with peft; the adapter changes its log-probs, and
    # towards the user's kind of answer on the held-out proposal.
    pair = next(p for p in (await load_signals(ws_store)).dpo if p.proposal_id == "c004")
    am = load_adapter_model(active.path, device="cpu", version=active.version)
    completions = [pair.chosen, pair.rejected]
    tuned = adapter_logps(am, [pair.prompt] * 2, completions, adapter=active.version)
    base = adapter_logps(am, [pair.prompt] * 2, completions, adapter=None)
    assert all(abs(t - b) > 1e-4 for t, b in zip(tuned, base, strict=True))
    assert tuned[0] - tuned[1] > base[0] - base[1]
