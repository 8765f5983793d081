"""`tether export`: every format from a real store, deduplicated and redacted, and readable
by `datasets` and by the TRL trainers that the formats are for."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tether.cli.main import main as cli
from tether.core.types import Actor, Outcome
from tether.decisions import DecisionStore
from tether.paths import WorkspacePaths
from tether.publish import prompt_messages
from training.helpers import FUNCTIONS, SYSTEM, proposal, record_corrections, record_labels
from training.helpers import typed as typed_code

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
FORMATS = ["dpo", "kto", "sft", "alpaca", "sharegpt", "chatml"]


async def _fill(store: DecisionStore) -> None:
    await record_corrections(store, 4)  # 4 pairs
    await record_labels(store, 6)  # 3 accepted, 3 rejected
    name, op = FUNCTIONS[0]
    original = f'KEY = "{AWS_KEY}"\ndef {name}(a, b): return a{op}b\n'
    for pid in ("dup-a", "dup-b"):  # the same correction twice: one pair survives
        p = proposal(pid, name, original, f"def {name}(a, b):\n    return a {op} b\n")
        await store.add_proposal(p)
        await store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=p.id)
        await store.record(
            Outcome.CORRECTED,
            actor=Actor.USER,
            proposal_id=p.id,
            after=f'KEY = "{AWS_KEY}"\n' + typed_code(name, op),
        )


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_every_format_is_deduplicated_redacted_and_loads(
    ws_store: DecisionStore, ws_paths: WorkspacePaths, tmp_path: Path
) -> None:
    await _fill(ws_store)
    out: dict[str, list[dict[str, Any]]] = {}
    for fmt in FORMATS:
        target = tmp_path / f"{fmt}.jsonl"
        code = await asyncio.to_thread(
            cli, ["export", "--workspace", str(ws_paths.workspace), "-f", fmt, "-o", str(target)]
        )
        assert code == 0
        text = target.read_text()
        assert AWS_KEY not in text and "[REDACTED_" in text
        out[fmt] = _read(target)

    assert len(out["dpo"]) == 5  # 4 + the duplicated correction once
    # TRL's columns, and whose label it is: a user's, or the verifier's (none here)
    assert set(out["dpo"][0]) == {"prompt", "chosen", "rejected", "signal"}
    assert {r["signal"] for r in out["dpo"]} == {"user"}
    assert len(out["kto"]) == 6 + 2 * 5
    assert {r["label"] for r in out["kto"]} == {True, False}
    # accepted completions and the user's side of each pair; two accepted ones (add, mul)
    # are the very text the user wrote in a correction of the same prompt: kept once
    desirable = 3 + 5 - 2
    for fmt in ("sft", "alpaca", "sharegpt", "chatml"):
        assert len(out[fmt]) == desirable, fmt
    assert all("a: int, b: int" in r["completion"] for r in out["sft"] if "def " in r["completion"])
    first_chat = out["chatml"][0]["messages"]
    assert [m["role"] for m in first_chat] == ["system", "user", "assistant"]
    assert first_chat[0]["content"] == SYSTEM
    assert [t["from"] for t in out["sharegpt"][0]["conversations"]] == ["system", "human", "gpt"]
    assert out["alpaca"][0]["system"] == SYSTEM and out["alpaca"][0]["instruction"]

    from datasets import load_dataset

    for fmt in FORMATS:
        ds = load_dataset(
            "json",
            data_files=str(tmp_path / f"{fmt}.jsonl"),
            split="train",
            cache_dir=str(tmp_path / "hf-cache"),
        )
        assert len(ds) == len(out[fmt])


def test_prompt_messages_parse_chatml_and_fall_back_to_one_user_turn() -> None:
    prompt = (
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU\nmore<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    assert prompt_messages(prompt) == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "U\nmore"},
    ]
    assert prompt_messages("plain") == [{"role": "user", "content": "plain"}]


async def test_export_to_stdout_and_bad_input(
    ws_store: DecisionStore, ws_paths: WorkspacePaths, capsys: pytest.CaptureFixture[str]
) -> None:
    await record_corrections(ws_store, 2)
    ws = ["--workspace", str(ws_paths.workspace)]
    assert await asyncio.to_thread(cli, ["export", *ws, "-f", "dpo", "-o", "-"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 2 and "2 dpo rows" in captured.err
    with pytest.raises(SystemExit):
        cli(["export", *ws, "-f", "parquet", "-o", "x"])
    missing = ["--workspace", str(ws_paths.workspace / "nowhere")]
    # a workspace with no decisions yet: an empty export and a hint, not an error
    assert await asyncio.to_thread(cli, ["export", *missing, "-f", "dpo", "-o", "-"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "No decisions recorded" in captured.err


@pytest.mark.slow
async def test_trl_trainers_accept_the_exports(
    ws_store: DecisionStore, ws_paths: WorkspacePaths, tmp_path: Path, tiny_model: Path
) -> None:
    from datasets import load_dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer, KTOConfig, KTOTrainer, SFTConfig, SFTTrainer

    await _fill(ws_store)
    for fmt in ("dpo", "kto", "sft", "chatml"):
        code = await asyncio.to_thread(
            cli,
            [
                "export",
                "--workspace",
                str(ws_paths.workspace),
                "-f",
                fmt,
                "-o",
                str(tmp_path / f"{fmt}.jsonl"),
            ],
        )
        assert code == 0

    def data(fmt: str) -> Any:
        return load_dataset(
            "json",
            data_files=str(tmp_path / f"{fmt}.jsonl"),
            split="train",
            cache_dir=str(tmp_path / "hf-cache"),
        )

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    common = dict(
        output_dir=str(tmp_path / "out"),
        use_cpu=True,
        bf16=False,
        report_to="none",
        gradient_checkpointing=False,
        per_device_train_batch_size=2,
        max_length=256,
    )

    def model() -> Any:
        return AutoModelForCausalLM.from_pretrained(tiny_model)

    dpo = DPOTrainer(
        model=model(),
        args=DPOConfig(**common),
        train_dataset=data("dpo"),
        processing_class=tokenizer,
    )
    assert {"prompt_ids", "chosen_ids", "rejected_ids"} <= set(dpo.train_dataset.column_names)
    kto = KTOTrainer(
        model=model(),
        args=KTOConfig(**common),
        train_dataset=data("kto"),
        processing_class=tokenizer,
    )
    assert len(kto.train_dataset) == len(data("kto"))
    for fmt in ("sft", "chatml"):
        sft = SFTTrainer(
            model=model(),
            args=SFTConfig(**common),
            train_dataset=data(fmt),
            processing_class=tokenizer,
        )
        assert "input_ids" in sft.train_dataset.column_names and len(sft.train_dataset) == 6
