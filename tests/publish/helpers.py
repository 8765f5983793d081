"""A small LoRA adapter on the embedded SmolLM2, really trained (a few AdamW steps), and
its registration as the active adapter of a store, for the publish tests."""

from __future__ import annotations

from pathlib import Path

from tether.core.types import Actor, Outcome, utcnow
from tether.decisions import DecisionStore
from tether.decisions.models import AdapterRow, DecisionContent

#: What the adapter is trained to prefer: typed Python.
TEXT = (
    "<|im_start|>user\nAdd type hints:\ndef add(a, b):\n    return a + b<|im_end|>\n"
    "<|im_start|>assistant\n```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```"
    "<|im_end|>\n"
)


def train_small_adapter(out: Path, *, steps: int = 4, rank: int = 4, layers: int = 6) -> Path:
    """LoRA (rank 4, alpha 8) on every linear layer of the top `layers` blocks, trained
    for `steps` steps on one example at a high learning rate, so it moves the logits."""
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
        target_modules=[
            "q_proj",
            "k_proj",
            "v_proj",
            "o_proj",
            "gate_proj",
            "up_proj",
            "down_proj",
        ],
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


async def activate(store: DecisionStore, adapter: Path, *, accuracy: float = 0.9) -> None:
    """Register `adapter` as v1 with a held-out accuracy, promoted by a chained row."""
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
