"""The one place training and export reach the agent's redactor.

Secrets and PII are found by `tether.agent.redact` (one redactor for the whole product, the
same that guards what is sent to a teacher); this module only adapts its `redact(text) ->
(text, count)` to whole examples and says clearly when it is missing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

RedactFn = Callable[[str], tuple[str, int]]


class RedactorMissing(RuntimeError):
    """`tether.agent.redact` cannot be imported, so nothing can be redacted."""


def redactor() -> RedactFn:
    try:
        module = importlib.import_module("tether.agent.redact")
    except ImportError as exc:
        raise RedactorMissing(
            f"the redactor tether.agent.redact is not available ({exc}); refusing to build "
            "data that might carry secrets"
        ) from exc
    fn = getattr(module, "redact", None)
    if not callable(fn):
        raise RedactorMissing("tether.agent.redact has no redact(text) -> (text, count)")
    return fn


def redact_fields(values: dict[str, str], fn: RedactFn | None = None) -> tuple[dict[str, str], int]:
    """Redact every text field of one example; returns the new fields and how many hits."""
    fn = fn or redactor()
    out: dict[str, str] = {}
    total = 0
    for key, text in values.items():
        clean, count = fn(text)
        out[key] = clean
        total += count
    return out, total
