"""Which student model to suggest for this machine, in one sentence.

The embedded SmolLM2-135M is for trying Tether offline; real work wants a bigger student.
The suggestion prefers a model a local engine already has (a coding one first), else a
size that fits the memory (or the GPU's), so `tether doctor` and the editors' welcome say
the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence


def recommend_student(
    current: str,
    memory_gib: float,
    gpu_memory_gib: float | None = None,
    pulled: Sequence[str] = (),
) -> str:
    """One sentence: what the current student is for, and what to use instead."""
    coder = next((m for m in pulled if "code" in m.lower()), pulled[0] if pulled else None)
    room = gpu_memory_gib if gpu_memory_gib else memory_gib
    size = "14b" if room >= 30 else "7b" if room >= 14 else "3b" if room >= 7 else "1.5b"
    where = f"a {gpu_memory_gib:.0f} GB GPU" if gpu_memory_gib else f"{memory_gib:.0f} GB of memory"
    suggestion = (
        f"ollama:{coder} (Ollama already has it)"
        if coder
        else f"ollama:qwen2.5-coder:{size} (fits {where}; `ollama pull qwen2.5-coder:{size}`)"
    )
    if not current or current.startswith("embedded:"):
        return (
            "the embedded 135M model is for trying Tether offline; for real work set "
            f"model = {suggestion}"
        )
    return f"{current} (for this machine Tether would suggest {suggestion})"
