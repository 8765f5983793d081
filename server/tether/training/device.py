"""Which device trains, and the TrainingArguments that go with it.

CPU: `use_cpu=True`, full fp32 (no bf16: slow or unsupported on most laptop CPUs), no
gradient checkpointing by default (recomputation costs time; `training.micro_batch_size`
keeps activation memory in check, and `training.gradient_checkpointing` can still turn it
on for long prompts).
CUDA: bf16 when the GPU supports it, else fp16. MPS: fp32 (mixed precision there is not
reliable across torch versions).
"""

from __future__ import annotations

from typing import Any


def resolve_device(preference: str = "auto") -> str:
    if preference != "auto":
        return preference
    from tether.embedded import pick_device

    return pick_device()


def precision_args(device: str) -> dict[str, Any]:
    common: dict[str, Any] = {"gradient_checkpointing": False}
    if device == "cuda":
        import torch

        bf16 = bool(torch.cuda.is_bf16_supported())
        return {**common, "use_cpu": False, "bf16": bf16, "fp16": not bf16}
    if device == "mps":
        return {**common, "use_cpu": False, "bf16": False, "fp16": False}
    return {**common, "use_cpu": True, "bf16": False, "fp16": False}
