"""Re-export a base GGUF with float weights, optionally with a LoRA adapter merged in.

Two uses:
- `--merge`: runtimes without adapter support get one GGUF whose weights are W + s·B·A.
- Parity: the embedded GGUF is quantized (Q4_1/Q8_0). transformers dequantizes it and
  computes in float32, while llama.cpp computes on the quantized blocks; the two drift
  apart by rounding. Re-exporting the *same* dequantized weights as float32 lets llama.cpp
  and transformers compute on identical numbers, so any difference left is the adapter's.

Every metadata field is copied as it is (tokenizer, chat template, hyper-parameters); only
`general.file_type` changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from tether.publish.gguf_adapter import LoraPair

FloatType = Literal["f32", "f16"]


def export_float(
    src: Path,
    dst: Path,
    *,
    dtype: FloatType = "f32",
    merge: Sequence[LoraPair] = (),
    scale: float = 1.0,
) -> Path:
    """Write `dst`: `src` with every tensor dequantized to `dtype` (1-D tensors stay f32),
    plus `scale`·B·A added to each weight named in `merge`."""
    import gguf

    reader = gguf.GGUFReader(src)
    arch = str(reader.fields["general.architecture"].contents())
    writer = gguf.GGUFWriter(dst, arch)
    file_type = gguf.LlamaFileType.ALL_F32 if dtype == "f32" else gguf.LlamaFileType.MOSTLY_F16
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name in {"general.architecture", "general.file_type"}:
            continue
        main = field.types[0]
        sub = field.types[-1] if main == gguf.GGUFValueType.ARRAY and len(field.types) > 1 else None
        writer.add_key_value(name, field.contents(), main, sub_type=sub)
    writer.add_file_type(file_type)
    deltas = {pair.name: pair for pair in merge}
    for tensor in reader.tensors:
        weights = gguf.quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
        shape = tuple(int(d) for d in reversed(tensor.shape.tolist()))
        weights = weights.reshape(shape)
        pair = deltas.pop(tensor.name, None)
        if pair is not None:
            weights = weights + scale * (pair.b.astype(np.float64) @ pair.a.astype(np.float64))
            weights = weights.astype(np.float32)
        if dtype == "f16" and weights.ndim > 1:
            weights = weights.astype(np.float16)
        writer.add_tensor(tensor.name, np.ascontiguousarray(weights))
    if deltas:
        raise ValueError(f"the base GGUF lacks the adapted tensors {sorted(deltas)}")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return dst
