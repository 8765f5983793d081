"""The one place training and export reach the product's redactor.

Secrets and PII are found by `tether.core.redaction` (one redactor for the whole product,
the same that guards what is sent to a teacher); this module only adapts its
`redact(text) -> (text, count)` to whole examples.
"""

from __future__ import annotations

from tether.core.redaction import RedactFn, redact


class RedactorMissing(RuntimeError):
    """Kept for callers that guard against a missing redactor; core always has one now."""


def redactor() -> RedactFn:
    return redact


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
