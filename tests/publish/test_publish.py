"""`tether publish` with a small adapter trained in this run: the GGUF adapter read back,
the gate, the bundle (manifest, Modelfile, chained row), bad bundles and bases, and
llama.cpp parity on a few prompts."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from tether.cli.main import main as cli
from tether.config import load_settings
from tether.core.types import Outcome
from tether.decisions import DecisionStore
from tether.paths import WorkspacePaths
from tether.publish import gguf_adapter, modelfile
from tether.publish.gguf_base import export_float
from tether.publish.parity import PROMPTS, check_parity

from .helpers import activate, train_small_adapter

pytestmark = pytest.mark.slow

MODEL_CACHE = Path(__file__).resolve().parents[2] / ".tether-test" / "models"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TETHER_MODEL_CACHE", str(MODEL_CACHE))
        return train_small_adapter(tmp_path_factory.mktemp("adapter") / "v1")


@pytest.fixture(scope="module")
def base_gguf() -> Path:
    from tether.embedded import gguf_path

    return gguf_path()


def test_gguf_adapter_layout_read_back(trained: Path, base_gguf: Path, tmp_path: Path) -> None:
    out = gguf_adapter.write_adapter(trained, base_gguf, tmp_path / "adapter.gguf")
    info = gguf_adapter.read_adapter(out)
    assert info.metadata["general.type"] == "adapter"
    assert info.metadata["general.architecture"] == "llama"
    assert info.metadata["adapter.type"] == "lora"
    assert info.metadata["adapter.lora.alpha"] == pytest.approx(8.0)
    peft = load_file(str(trained / "adapter_model.safetensors"))
    assert len(info.shapes) == len(peft)  # one GGUF tensor per PEFT tensor
    a = peft["base_model.model.model.layers.29.mlp.down_proj.lora_A.weight"]
    b = peft["base_model.model.model.layers.29.mlp.down_proj.lora_B.weight"]
    assert info.shapes["blk.29.ffn_down.weight.lora_a"] == a.shape == (4, 1536)
    assert info.shapes["blk.29.ffn_down.weight.lora_b"] == b.shape == (576, 4)
    assert "blk.0.attn_q.weight.lora_a" not in info.shapes  # only the top layers were adapted


def test_query_rows_follow_llama_cpp_order(base_gguf: Path) -> None:
    """The row order the adapter's B gets is the one llama.cpp's converter gave the base."""
    import gguf

    from tether.embedded import plain_model_dir

    reader = gguf.GGUFReader(base_gguf)
    tensors = {t.name: t for t in reader.tensors}
    weights = load_file(str(next(plain_model_dir().glob("*.safetensors"))))
    for hf, name, heads in (("q_proj", "attn_q", 9), ("k_proj", "attn_k", 3)):
        t = tensors[f"blk.3.{name}.weight"]
        quantized = gguf.quants.dequantize(t.data, t.tensor_type)
        plain = weights[f"model.layers.3.self_attn.{hf}.weight"].astype(np.float32)
        assert np.array_equal(gguf_adapter.permute_rows(plain, heads), quantized)
        assert not np.array_equal(plain, quantized)


def _toml(ws: Path, text: str) -> None:
    (ws / "tether.toml").write_text(text)


def test_publish_gate_bundle_and_bad_input(
    trained: Path, tmp_path: Path, tether_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    paths = WorkspacePaths(ws, load_settings(ws).data_root).ensure()

    async def setup() -> None:
        async with await DecisionStore.open(paths.db) as store:
            await activate(store, trained, accuracy=0.55)

    asyncio.run(setup())
    # the gate refuses, with the numbers, and writes nothing
    assert cli(["publish", "-w", str(ws)]) == 3
    err = capsys.readouterr().err
    assert "0% of traffic is in mature classes" in err and "preference_accuracy 0.550" in err
    assert not (paths.root / "published").exists() or not any((paths.root / "published").iterdir())

    # a base GGUF of another architecture: a clear error, nothing half-written
    import gguf

    foreign = tmp_path / "foreign.gguf"
    writer = gguf.GGUFWriter(foreign, "qwen2")
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    _toml(ws, "[publish]\nmin_mature_share = 0\nmin_preference_accuracy = 0.5\n")
    out = tmp_path / "bundle"
    assert cli(["publish", "-w", str(ws), "--base", str(foreign), "-o", str(out)]) == 1
    assert "another model" in capsys.readouterr().err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if ".partial" in p.name]

    # the real publish
    assert cli(["publish", "-w", str(ws), "-o", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "published" and result["gate"]["forced"] is False
    for name in (
        "adapter/adapter_model.safetensors",
        "adapter.gguf",
        "base.gguf",
        "Modelfile",
        "agent.json",
        "profile.json",
        "rules.json",
        "lineage.json",
        "README.md",
        "manifest.json",
    ):
        assert (out / name).is_file(), name
    fields = modelfile.parse((out / "Modelfile").read_text())
    assert fields["FROM"] == ["./base.gguf"] and fields["ADAPTER"] == ["./adapter.gguf"]
    assert "Help the user keep their code clear" in fields["SYSTEM"][0]
    assert any(p.startswith("temperature ") for p in fields["PARAMETER"])
    card = (out / "README.md").read_text()
    assert "preference_accuracy" in card and "Decision log head at publication" in card

    async def published_rows() -> list:
        async with await DecisionStore.open(paths.db) as store:
            return [r for r in await store.decisions() if r.outcome == Outcome.PUBLISHED]

    [row] = asyncio.run(published_rows())
    assert row.data["path"] == str(out) and row.data["forced"] is False
    # the bundle carries a signed checkpoint of the head it was published at (issue 17)
    signed = json.loads((out / "lineage.json").read_text())["checkpoint"]
    assert signed["seq"] == row.seq - 1 and signed["signature"]
    assert cli(["verify", "-w", str(ws)]) == 0
    assert cli(["publish", "--verify", str(out)]) == 0
    capsys.readouterr()

    # a tampered bundle is caught by its manifest
    (out / "Modelfile").write_text((out / "Modelfile").read_text() + "PARAMETER seed 1\n")
    assert cli(["publish", "--verify", str(out)]) == 1
    assert "Modelfile changed" in capsys.readouterr().err

    # --force publishes past the gate and says so in the chained row
    _toml(ws, "[publish]\nmin_mature_share = 0.9\n")
    assert cli(["publish", "-w", str(ws), "--force", "--json"]) == 0
    forced = json.loads(capsys.readouterr().out)
    assert forced["gate"]["forced"] is True and forced["path"].endswith("published/v1")
    assert [r.data["forced"] for r in asyncio.run(published_rows())] == [False, True]
    shutil.rmtree(out)


def test_llama_cpp_parity_on_a_few_prompts(trained: Path, base_gguf: Path, tmp_path: Path) -> None:
    """llama.cpp (base GGUF + GGUF adapter) decodes the same greedy tokens as transformers +
    PEFT. On the float32 re-export of the embedded weights both compute on the same numbers;
    the adapter's own effect dwarfs what is left (the full run on the quantized file, and
    on more prompts, is in `make bench`)."""
    adapter = gguf_adapter.write_adapter(trained, base_gguf, tmp_path / "adapter.gguf")
    base = export_float(base_gguf, tmp_path / "base-f32.gguf")
    report = check_parity(base, adapter, trained, prompts=PROMPTS[:2], max_new_tokens=8)
    assert report.all_equal, report.summary()
    for p in report.prompts:
        assert p.tokenizer_equal
        assert p.adapter_effect > 20 * p.max_logit_diff, report.summary()


def test_merged_gguf_holds_base_plus_scaled_delta(
    trained: Path, base_gguf: Path, tmp_path: Path
) -> None:
    """`--merge`: W + (alpha / r)·B·A in the base's own row order, every other tensor as is."""
    import gguf

    base = gguf_adapter.read_base(base_gguf)
    pairs = gguf_adapter.lora_pairs(trained, base)
    merged = export_float(base_gguf, tmp_path / "merged.gguf", merge=pairs, scale=8.0 / 4)
    before = {t.name: t for t in gguf.GGUFReader(base_gguf).tensors}
    after = {t.name: t for t in gguf.GGUFReader(merged).tensors}
    assert after.keys() == before.keys()
    pair = next(p for p in pairs if p.name == "blk.29.attn_q.weight")
    w = gguf.quants.dequantize(before[pair.name].data, before[pair.name].tensor_type)
    assert np.allclose(after[pair.name].data, w + 2.0 * pair.b @ pair.a, atol=1e-5)
    untouched = "blk.0.attn_q.weight"
    w0 = gguf.quants.dequantize(before[untouched].data, before[untouched].tensor_type)
    assert np.array_equal(after[untouched].data, w0)
