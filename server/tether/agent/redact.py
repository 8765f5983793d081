"""Redaction for the agent: the product's one redactor lives in `tether.core.redaction`.

Kept so `from tether.agent.redact import Redactor, redact, redact_messages` goes on working;
training, export and memory import the core module directly (no agent import for them).
"""

from __future__ import annotations

from tether.core.redaction import Redactor, find_spans, redact, redact_messages

__all__ = ["Redactor", "find_spans", "redact", "redact_messages"]
