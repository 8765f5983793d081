"""The publish tests' adapter: the benchmark's own small, really trained LoRA (a few AdamW
steps on the embedded SmolLM2) and its registration as a store's active adapter."""

from __future__ import annotations

from bench.publish import activate, train_small_adapter

__all__ = ["activate", "train_small_adapter"]
