"""A PEFT LoRA adapter as a GGUF file in llama.cpp's adapter layout.

llama.cpp (and so Ollama) loads a LoRA adapter from a GGUF whose metadata says
`general.type = adapter`, `adapter.type = lora`, `adapter.lora.alpha`, and whose
`general.architecture` is the base's; each adapted weight `W` of the base appears as two
tensors `<gguf name of W>.lora_a` (PEFT's A, rank × in) and `.lora_b` (PEFT's B, out × rank).
llama.cpp scales B·A by alpha / rank itself, as PEFT does.

One detail makes a naive copy wrong: when llama.cpp's converter writes a Llama-family
base, it reorders the rows of the query and key projections (it pairs the halves of each
rotary head differently from Hugging Face). The adapter's B has one row per output feature,
so its rows get the same reordering; A is untouched. `permute_rows` does that, and a test
checks it against the base GGUF's own weights.

Written with the `gguf` package from PyPI; nothing of llama.cpp is needed at run time.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: PEFT's tensor names: "<prefix>.<module path>.lora_A.weight"
_PEFT_NAME = re.compile(r"^(?:base_model\.model\.)?(?P<module>.+)\.lora_(?P<ab>[AB])\.weight$")

#: Architectures whose GGUF query/key rows llama.cpp's converter reorders.
_ROTARY_PERMUTED = frozenset({"llama"})


class GGUFAdapterError(ValueError):
    """The adapter cannot be written or used as a GGUF; the message says why and what to do."""


@dataclass(frozen=True)
class BaseInfo:
    """What the adapter needs to know about the base GGUF."""

    path: Path
    architecture: str
    block_count: int
    head_count: int
    head_count_kv: int
    tensor_shapes: dict[str, tuple[int, ...]]  # GGUF name -> numpy shape (rows, cols)


@dataclass(frozen=True)
class LoraPair:
    """One adapted weight: GGUF base tensor name, A (rank × in), B (out × rank), both float32."""

    name: str
    a: np.ndarray
    b: np.ndarray


def read_base(path: Path) -> BaseInfo:
    """Read a base model GGUF's architecture, head counts and tensor shapes."""
    import gguf

    try:
        reader = gguf.GGUFReader(path)
    except (OSError, ValueError) as exc:
        raise GGUFAdapterError(f"{path} is not a readable GGUF file ({exc}).") from None

    def _field(name: str, default: Any = None) -> Any:
        # only the few fields needed: reading the tokenizer's arrays takes seconds
        field = reader.fields.get(name)
        return default if field is None else field.contents()

    kind = _field("general.type", "model")
    if kind != "model":
        raise GGUFAdapterError(f"{path} is a GGUF {kind}, not a base model.")
    arch = str(_field("general.architecture", ""))

    def _int(key: str, default: int = 0) -> int:
        value = _field(f"{arch}.{key}", default)
        return int(value[0] if isinstance(value, list) else value)

    heads = _int("attention.head_count")
    shapes = {t.name: tuple(int(d) for d in reversed(t.shape.tolist())) for t in reader.tensors}
    return BaseInfo(
        path=path,
        architecture=arch,
        block_count=_int("block_count"),
        head_count=heads,
        head_count_kv=_int("attention.head_count_kv", heads),
        tensor_shapes=shapes,
    )


def permute_rows(rows: np.ndarray, n_head: int) -> np.ndarray:
    """Reorder the rows of a query/key projection (or its LoRA B) the way llama.cpp's
    converter does: within each head, interleaved rotary pairs become two halves."""
    out = rows.shape[0]
    if n_head <= 0 or out % (2 * n_head):
        raise GGUFAdapterError(f"cannot split {out} rows into {n_head} rotary heads")
    per_half = out // n_head // 2
    return rows.reshape(n_head, 2, per_half, *rows.shape[1:]).swapaxes(1, 2).reshape(rows.shape)


def _peft_config(adapter_dir: Path) -> dict[str, Any]:
    config_file = adapter_dir / "adapter_config.json"
    if not config_file.is_file():
        raise GGUFAdapterError(
            f"{adapter_dir} has no adapter_config.json: it is not a PEFT adapter folder."
        )
    config: dict[str, Any] = json.loads(config_file.read_text())
    if config.get("peft_type", "LORA") != "LORA":
        raise GGUFAdapterError(f"the adapter is {config.get('peft_type')}, only LoRA converts.")
    if config.get("use_dora"):
        raise GGUFAdapterError("DoRA adapters have no llama.cpp equivalent; train plain LoRA.")
    if config.get("rank_pattern") or config.get("alpha_pattern"):
        raise GGUFAdapterError(
            "the adapter uses per-module ranks or alphas, which llama.cpp's single alpha "
            "cannot express; train with one rank and alpha."
        )
    if config.get("modules_to_save"):
        raise GGUFAdapterError(
            "the adapter saves whole modules besides LoRA weights; llama.cpp cannot load those."
        )
    return config


def gguf_alpha(config: dict[str, Any]) -> float:
    """The alpha to store so llama.cpp's scale (alpha / rank) equals PEFT's."""
    alpha = float(config.get("lora_alpha", 8))
    if config.get("use_rslora"):  # PEFT scales by alpha / sqrt(rank)
        alpha *= math.sqrt(float(config.get("r", 8)))
    return alpha


def lora_pairs(adapter_dir: Path, base: BaseInfo) -> list[LoraPair]:
    """The adapter's A/B pairs under the base GGUF's tensor names, in llama.cpp's row order."""
    import gguf
    from safetensors.numpy import load_file

    weights_file = adapter_dir / "adapter_model.safetensors"
    if not weights_file.is_file():
        raise GGUFAdapterError(f"{adapter_dir} has no adapter_model.safetensors.")
    arch = {name: key for key, name in gguf.MODEL_ARCH_NAMES.items()}.get(base.architecture)
    if arch is None:
        raise GGUFAdapterError(f"the base's architecture {base.architecture!r} is unknown to gguf.")
    names = gguf.get_tensor_name_map(arch, base.block_count)
    halves: dict[str, dict[str, np.ndarray]] = {}
    for key, tensor in load_file(str(weights_file)).items():
        match = _PEFT_NAME.match(key)
        if match is None:
            raise GGUFAdapterError(f"unexpected tensor {key!r} in the adapter (not LoRA A or B).")
        module = match["module"]
        target = names.get_name(module)
        if target is None:
            raise GGUFAdapterError(
                f"the adapter adapts {module!r}, which the base GGUF {base.path.name} "
                f"(architecture {base.architecture!r}, {base.block_count} blocks) does not have: "
                "the adapter was trained for another model; give the base it was trained on."
            )
        halves.setdefault(f"{target}.weight", {})[match["ab"]] = tensor.astype(np.float32)
    pairs = []
    for name, ab in sorted(halves.items()):
        if set(ab) != {"A", "B"}:
            raise GGUFAdapterError(f"the adapter has only half of the LoRA pair for {name}.")
        a, b = ab["A"], ab["B"]
        shape = base.tensor_shapes.get(name)
        if shape is None:
            raise GGUFAdapterError(
                f"the base GGUF has no tensor {name}: the adapter was trained for another model."
            )
        if shape != (b.shape[0], a.shape[1]) or a.shape[0] != b.shape[1]:
            raise GGUFAdapterError(
                f"{name}: the adapter's B·A is {b.shape[0]}×{a.shape[1]} but the base's weight "
                f"is {shape[0]}×{shape[1]}: the adapter was trained for another model."
            )
        if base.architecture in _ROTARY_PERMUTED:
            if name.endswith("attn_q.weight"):
                b = permute_rows(b, base.head_count)
            elif name.endswith("attn_k.weight"):
                b = permute_rows(b, base.head_count_kv)
        pairs.append(LoraPair(name=name, a=np.ascontiguousarray(a), b=np.ascontiguousarray(b)))
    if not pairs:
        raise GGUFAdapterError(f"{adapter_dir} holds no LoRA weights.")
    return pairs


def write_adapter(adapter_dir: Path, base_gguf: Path, out: Path, *, name: str = "") -> Path:
    """Write `out`, the GGUF LoRA adapter of the PEFT adapter in `adapter_dir` for `base_gguf`."""
    import gguf

    config = _peft_config(adapter_dir)
    base = read_base(base_gguf)
    pairs = lora_pairs(adapter_dir, base)
    writer = gguf.GGUFWriter(out, base.architecture)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, gguf_alpha(config))
    if name:
        writer.add_name(name)
    for pair in pairs:
        writer.add_tensor(f"{pair.name}.lora_a", pair.a)
        writer.add_tensor(f"{pair.name}.lora_b", pair.b)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out


@dataclass(frozen=True)
class AdapterInfo:
    """A GGUF adapter read back: its metadata and its tensors' shapes (rows, cols)."""

    metadata: dict[str, Any]
    shapes: dict[str, tuple[int, ...]]

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", ""))


def read_adapter(path: Path) -> AdapterInfo:
    import gguf

    try:
        reader = gguf.GGUFReader(path)
    except (OSError, ValueError) as exc:
        raise GGUFAdapterError(f"{path} is not a readable GGUF file ({exc}).") from None
    metadata = {n: f.contents() for n, f in reader.fields.items() if not n.startswith("GGUF.")}
    shapes = {t.name: tuple(int(d) for d in reversed(t.shape.tolist())) for t in reader.tensors}
    return AdapterInfo(metadata=metadata, shapes=shapes)


def check_compatible(adapter_gguf: Path, base_gguf: Path) -> None:
    """Raise GGUFAdapterError when the adapter cannot apply to the base (what llama.cpp
    would refuse, said before it is asked): another architecture or other shapes."""
    adapter = read_adapter(adapter_gguf)
    base = read_base(base_gguf)
    if adapter.metadata.get("general.type") != "adapter":
        raise GGUFAdapterError(f"{adapter_gguf} is not a GGUF adapter.")
    if adapter.architecture != base.architecture:
        raise GGUFAdapterError(
            f"the adapter is for architecture {adapter.architecture!r} but the base GGUF "
            f"{base_gguf.name} is {base.architecture!r}; give the base model it was trained on."
        )
    for tensor, shape in adapter.shapes.items():
        weight, _, half = tensor.rpartition(".")
        base_shape = base.tensor_shapes.get(weight)
        if base_shape is None:
            raise GGUFAdapterError(f"the base GGUF has no tensor {weight} that the adapter adapts.")
        expected = base_shape[1] if half == "lora_a" else base_shape[0]
        actual = shape[1] if half == "lora_a" else shape[0]
        if expected != actual:
            raise GGUFAdapterError(
                f"{tensor} does not fit {weight} of the base GGUF ({shape} vs {base_shape}); "
                "the adapter was trained for another model."
            )
