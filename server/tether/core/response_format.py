"""The answer format the agent asks models for, shared by prompting, parsing and training.

Training pairs built from a user's own text must look exactly like model output, or DPO
would learn the format instead of the preference; so both sides render through here.
"""

from __future__ import annotations

FENCE = "```"


def render_completion(code: str, language: str = "python", rationale: str = "") -> str:
    """One fenced block holding the full replacement for the selected range."""
    body = code if code.endswith("\n") or not code else code + "\n"
    block = f"{FENCE}{language}\n{body}{FENCE}"
    return f"{rationale.strip()}\n{block}" if rationale.strip() else block
