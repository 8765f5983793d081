"""Redaction of secrets and personal data before anything is sent to a teacher.

Scanners such as detect-secrets report findings file by file; the agent needs something
else: rewrite a prompt in memory, in microseconds, and put the values back into the
teacher's answer so an accepted edit never writes a placeholder over a real key. A short
table of well-known token shapes plus the spec's own patterns does that, with no extra
dependency. Each value gets a numbered placeholder (`[REDACTED_API_KEY_1]`), stable within
one request, so the teacher can still see that two places use the same value.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

log = logging.getLogger("tether.agent.redact")

#: (kind, pattern, group holding the secret: 0 = the whole match)
_BUILTIN: list[tuple[str, str, int]] = [
    (
        "private_key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
        r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",
        0,
    ),
    ("aws_key", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b", 0),
    ("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{20,})\b", 0),
    ("gitlab_token", r"\bglpat-[A-Za-z0-9_\-]{20,}\b", 0),
    ("slack_token", r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b", 0),
    ("google_api_key", r"\bAIza[0-9A-Za-z_\-]{35}\b", 0),
    ("stripe_key", r"\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}\b", 0),
    ("api_key", r"\bsk-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_\-]{20,}\b", 0),  # OpenAI, Anthropic, …
    ("huggingface_token", r"\bhf_[A-Za-z0-9]{30,}\b", 0),
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", 0),
    ("bearer_token", r"(?i)\bbearer\s+([A-Za-z0-9._~+/\-]{16,}=*)", 1),
    ("url_password", r"\b[a-z][a-z0-9+.\-]*://[^\s:/@]+:([^\s@/]+)@", 1),
    (
        "secret",
        r"(?i)\b[\w.\-]*(?:api[_\-]?key|secret|token|passwd|password|pwd|access[_\-]?key|"
        r"auth[_\-]?key|credentials?)[\w.\-]*[\"']?\s*[:=]\s*[rbf]?([\"'])([^\"'\n]{6,})\1",
        2,
    ),
    ("email", r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b", 0),
]

_COMPILED = [(kind, re.compile(p), g) for kind, p, g in _BUILTIN]


@dataclass
class Redactor:
    """Redacts texts of one request consistently and restores the values in answers."""

    extra_patterns: Sequence[str] = ()
    values: dict[str, str] = field(default_factory=dict)  # placeholder -> secret
    _by_value: dict[str, str] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)

    def _placeholder(self, kind: str, value: str) -> str:
        if value in self._by_value:
            return self._by_value[value]
        n = sum(1 for p in self.values if p.startswith(f"[REDACTED_{kind.upper()}_")) + 1
        ph = f"[REDACTED_{kind.upper()}_{n}]"
        self.values[ph] = value
        self._by_value[value] = ph
        return ph

    def _patterns(self) -> Iterable[tuple[str, re.Pattern[str], int]]:
        yield from _COMPILED
        for p in self.extra_patterns:
            yield "custom", re.compile(p), 0

    def redact(self, text: str) -> str:
        for kind, pattern, group in self._patterns():
            text = self._sub(text, kind, pattern, group)
        return text

    def _sub(self, text: str, kind: str, pattern: re.Pattern[str], group: int) -> str:
        out: list[str] = []
        cursor = 0
        for m in pattern.finditer(text):
            start, end = m.span(group)
            value = text[start:end]
            if not value or value.startswith("[REDACTED_"):
                continue
            out.append(text[cursor:start])
            out.append(self._placeholder(kind, value))
            self.counts[kind] += 1
            cursor = end
        out.append(text[cursor:])
        return "".join(out)

    def restore(self, text: str) -> str:
        """Put the real values back where the teacher kept a placeholder."""
        for ph, value in self.values.items():
            text = text.replace(ph, value)
        return text

    @property
    def count(self) -> int:
        return sum(self.counts.values())


def redact(text: str, extra_patterns: Sequence[str] = ()) -> tuple[str, int]:
    """One-shot redaction: the redacted text and how many values were replaced."""
    r = Redactor(extra_patterns)
    return r.redact(text), r.count


def redact_messages(messages: Sequence[dict[str, str]], redactor: Redactor) -> list[dict[str, str]]:
    """A redacted copy of chat messages; logs how many values were removed."""
    out = [{**m, "content": redactor.redact(m["content"])} for m in messages]
    if redactor.count:
        log.info(
            "redacted %d value(s) before a teacher call: %s",
            redactor.count,
            ", ".join(f"{k}={v}" for k, v in sorted(redactor.counts.items())),
        )
    return out
