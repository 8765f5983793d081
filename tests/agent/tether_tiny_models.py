"""Tiny models for the agent's tests: a small Llama built from a config with the real
SmolLM2 tokenizer (real transformers and peft code paths, seconds instead of minutes).

A module with a unique name rather than conftest, so test files can import it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MODEL_CACHE = Path(__file__).resolve().parents[2] / ".tether-test" / "models"


def build_tiny_model(tokenizer: Any, seed: int = 0) -> Any:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return LlamaForCausalLM(config).eval()


def save_lora_adapter(model: Any, directory: Path, seed: int) -> Path:
    """A real PEFT LoRA adapter for `model`, with non-zero weights so it changes outputs."""
    import copy

    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    peft_model = get_peft_model(
        copy.deepcopy(model),
        LoraConfig(
            r=4,
            lora_alpha=32,
            target_modules=["q_proj", "v_proj", "o_proj"],
            init_lora_weights=False,
        ),
    )
    peft_model.save_pretrained(directory)
    return directory
