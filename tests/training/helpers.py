"""A simulated user with a clear taste, recorded as real proposals and decisions.

The user wants type hints: every proposal offers an untyped function, and the user
corrects it to the typed one (a DPO pair), or accepts typed code and rejects untyped code
(KTO labels). Proposal ids are fixed so the held-out split, and so every run, is the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tether.core.diff import make_hunks
from tether.core.response_format import render_completion
from tether.core.types import Actor, Candidate, Outcome, Position, Proposal, Range
from tether.decisions import DecisionStore

SYSTEM = "Answer with code."  # short: every prompt token costs CPU time in the real-model test

FUNCTIONS: list[tuple[str, str]] = [
    ("add", "+"),
    ("sub", "-"),
    ("mul", "*"),
    ("div", "/"),
    ("mod", "%"),
    ("power", "**"),
    ("floor_div", "//"),
    ("bit_and", "&"),
    ("bit_or", "|"),
    ("bit_xor", "^"),
    ("shl", "<<"),
    ("shr", ">>"),
    ("plus", "+"),
    ("minus", "-"),
    ("times", "*"),
    ("ratio", "/"),
    ("remainder", "%"),
    ("exponent", "**"),
    ("quotient", "//"),
    ("mask", "&"),
    ("merge", "|"),
    ("toggle", "^"),
    ("left", "<<"),
    ("right", ">>"),
]


def untyped(name: str, op: str) -> str:
    return f"def {name}(a, b):\n    return a {op} b\n"


def typed(name: str, op: str) -> str:
    return f"def {name}(a: int, b: int) -> int:\n    return a {op} b\n"


def chat_prompt(name: str, original: str) -> str:
    user = f"Improve `{name}`:\n{original}"
    return (
        f"<|im_start|>system\n{SYSTEM}<|im_end|>\n"
        f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"
    )


def proposal(pid: str, name: str, original: str, proposed: str, **extra: Any) -> Proposal:
    completion = render_completion(proposed)
    return Proposal(
        id=pid,
        uri=f"file:///ws/src/{name}.py",
        path=f"src/{name}.py",
        range=Range.of(0, 0, original.count("\n"), 0),
        task="improve",
        class_key="improve|python|src|small",
        rationale="Simplify",
        original=original,
        proposed=proposed,
        hunks=make_hunks(original, proposed, Position(line=0, character=0)),
        candidates=[Candidate(text=proposed, completion=completion)],
        prompt=chat_prompt(name, original),
        completion=completion,
        model="embedded:smollm2",
        **extra,
    )


async def record_corrections(
    store: DecisionStore, count: int, *, prefix: str = "c", start: int = 0
) -> None:
    """`count` proposals of untyped code, each corrected by the user to typed code
    (functions `start`… of FUNCTIONS, so later calls can add new, different ones)."""
    for i, (name, op) in enumerate(FUNCTIONS[start : start + count], start=start):
        original = f"def {name}(a, b): return a{op}b\n"
        p = proposal(f"{prefix}{i:03d}", name, original, untyped(name, op))
        await store.add_proposal(p)
        await store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=p.id)
        await store.record(
            Outcome.CORRECTED, actor=Actor.USER, proposal_id=p.id, after=typed(name, op)
        )


async def record_labels(store: DecisionStore, count: int, *, prefix: str = "k") -> None:
    """`count` proposals alternately typed (accepted) and untyped (rejected)."""
    for i, (name, op) in enumerate(FUNCTIONS[:count]):
        original = f"def {name}(a, b): return a{op}b\n"
        good = i % 2 == 0
        text = typed(name, op) if good else untyped(name, op)
        p = proposal(f"{prefix}{i:03d}", name, original, text)
        await store.add_proposal(p)
        outcome = Outcome.ACCEPTED if good else Outcome.REJECTED
        await store.record(outcome, actor=Actor.USER, proposal_id=p.id)


def build_tiny_model(target: Path, tokenizer_dir: Path) -> Path:
    """A randomly initialised, very small Llama that speaks SmolLM2's tokenizer."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    return target


def build_tiny_adapter(target: Path, model_dir: Path) -> Path:
    """A LoRA adapter for the tiny model with non-zero weights (so it changes outputs)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir)
    config = LoraConfig(
        r=8,
        lora_alpha=16,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
        init_lora_weights=False,
    )
    get_peft_model(model, config).save_pretrained(target)
    return target


async def install_active_adapter(store: DecisionStore, adapters_dir: Path, source: Path) -> str:
    """Put a real adapter in place as v1 and make it active, as a promotion would."""
    import shutil

    from tether.core.types import utcnow
    from tether.decisions import AdapterRow, DecisionContent
    from tether.training.lineage import ADAPTER_FILE, file_sha256

    target = adapters_dir / "v1"
    shutil.copytree(source, target)
    sha = file_sha256(target / ADAPTER_FILE)
    await store.put_adapter(
        AdapterRow(
            version="v1",
            created_at=utcnow(),
            status="candidate",
            path=str(target),
            lineage={"adapter_sha256": sha},
        )
    )
    await store.activate_adapter(
        "v1",
        DecisionContent(
            ts=utcnow(),
            outcome=Outcome.ADAPTER_PROMOTED,
            actor=Actor.SYSTEM,
            adapter_version="v1",
            data={"adapter_sha256": sha},
        ),
    )
    return sha
