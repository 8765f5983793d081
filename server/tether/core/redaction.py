"""Redaction of secrets and personal data before anything leaves the machine.

Two kinds of detector, merged:
- detect-secrets' plugins (a maintained set: AWS, Azure, GitHub, GitLab, npm, PyPI, Slack,
  Stripe, Twilio, JWT, private keys, keyword assignments, high-entropy quoted strings…),
  run line by line with their own entropy limits;
- the project's own patterns for what those miss in real files: unquoted `.env` and ini
  assignments (`DB_PASSWORD=hunter2hunter2`, `aws_secret_access_key = …`, `export
  API_TOKEN=…`), type-hinted assignments (`password: str = "…"`), npm `_authToken`,
  `Authorization: Basic …`, `.netrc` passwords, connection strings, bare hex keys, whole
  PEM blocks, URL passwords, e-mail addresses, and the spec's own regexes.

Each value gets a numbered placeholder (`[REDACTED_SECRET_1]`), stable within one request,
so a teacher can still see that two places use the same value; `Redactor.restore` puts the
values back into its answer, so an accepted edit never writes a placeholder over a real
key. Restoring happens only here, in memory: nothing outside holds the mapping.
"""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("tether.redaction")

#: Words that make a name a secret's name (env vars, ini keys, dict keys, attributes).
_SECRET_NAME = (
    r"(?:passw(?:or)?d|passphrase|pwd|secret|token(?!s|iz)|api[_\-]?key|apikey|access[_\-]?key|"
    r"private[_\-]?key|signing[_\-]?key|secret[_\-]?key|auth[_\-]?(?:key|token)|"
    r"credentials?|client[_\-]?secret|account[_\-]?key|encryption[_\-]?key|"
    r"master[_\-]?key|session[_\-]?key|webhook[_\-]?secret|dsn)"
)
#: An unquoted value: no spaces, quotes, brackets or calls (so code is left alone).
_BARE_VALUE = r"([^\s\"'`#;,()\[\]{}<>]{6,})(?=$|[\s#;,])"

#: (kind, pattern, group holding the secret: 0 = the whole match)
_PATTERNS: list[tuple[str, str, int]] = [
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
    ("slack_webhook", r"https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]+", 0),
    ("google_api_key", r"\bAIza[0-9A-Za-z_\-]{35}\b", 0),
    ("stripe_key", r"\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}\b", 0),
    ("api_key", r"\bsk-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_\-]{20,}\b", 0),  # OpenAI, Anthropic, …
    ("huggingface_token", r"\bhf_[A-Za-z0-9]{30,}\b", 0),
    ("npm_token", r"\bnpm_[A-Za-z0-9]{30,}\b", 0),
    ("pypi_token", r"\bpypi-[A-Za-z0-9_\-]{40,}\b", 0),
    ("sendgrid_key", r"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}\b", 0),
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", 0),
    ("bearer_token", r"(?i)\bbearer\s+([A-Za-z0-9._~+/\-]{16,}=*)", 1),
    ("basic_auth", r"(?i)\bbasic\s+([A-Za-z0-9+/]{12,}={0,2})(?![A-Za-z0-9+/=])", 1),
    ("url_password", r"\b[a-z][a-z0-9+.\-]*://[^\s:/@]+:([^\s@/]+)@", 1),
    # npm/yarn: //registry/:_authToken=…, _auth=…, _password=…
    ("npm_auth", r"(?im)(?:^|:)(?:_authToken|_auth|_password)\s*=\s*[\"']?([^\s\"']{6,})", 1),
    # .netrc: machine HOST login USER password SECRET
    ("netrc_password", r"(?im)^(?:machine|default)\b.*?\bpassword\s+(\S+)", 1),
    ("netrc_password", r"(?im)^[ \t]*(?:password|passwd)[ \t]+(?![=:])(\S{4,})", 1),
    # connection strings: Password=…; AccountKey=…; SharedAccessKey=…
    (
        "connection_secret",
        r"(?i)(?:^|[;\s\"'])(?:password|pwd|accountkey|sharedaccesskey)=([^;\"'\s]{4,})",
        1,
    ),
    ("docker_auth", r"(?i)\"auth\"\s*:\s*\"([A-Za-z0-9+/=]{12,})\"", 1),
    # a bare hex key (signing keys, HMAC secrets): 32+ hex digits with letters and digits
    ("hex_key", r"(?i)(?<![\w/])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{32,}(?![\w/])", 0),
    ("email", r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b", 0),
]

_COMPILED = [(kind, re.compile(p), g) for kind, p, g in _PATTERNS]

#: Secrets assigned to a secret-sounding name. Found name first (one pass over the
#: identifiers), then the assignment right after it: a single regex with `[\w.-]*` around
#: the name backtracks at every position and costs ~10x more.
_IDENT = re.compile(r"(?<![\w.\-])[\w.\-]{3,}")
_NAME = re.compile(_SECRET_NAME, re.IGNORECASE)
#: quoted, with an optional type hint: password: str = "…", "api_key": "…", KEY='…'
_QUOTED_AFTER = re.compile(
    r"[\"']?(?:\s*:\s*[\w\[\]., |]+?(?=\s*=))?\s*[:=]{1,2}\s*[rbf]?([\"'])([^\"'\n]{6,})\1",
    re.IGNORECASE,
)
#: unquoted, .env / ini / yaml / shell: DB_PASSWORD=…, export API_TOKEN=…, secret: …
_BARE_AFTER = re.compile(r"[ \t]*[=:][ \t]*" + _BARE_VALUE, re.MULTILINE)


def _assigned_spans(text: str) -> Iterable[Span]:
    for ident in _IDENT.finditer(text):
        if not _NAME.search(ident.group()):
            continue
        end = ident.end()
        quoted = _QUOTED_AFTER.match(text, end)
        if quoted:
            if not _TEMPLATE.search(quoted.group(2)):  # f"{…}" builds a value, holds none
                yield quoted.start(2), quoted.end(2), "secret"
            continue
        bare = _BARE_AFTER.match(text, end)
        if bare and _bare_secret(bare.group(1), ident.group(), bare.group(0)):
            yield bare.start(1), bare.end(1), "secret"


_TEMPLATE = re.compile(r"\{[^{}]*\}")
_WORDS = re.compile(r"^[A-Za-z_]+$")


def _bare_secret(value: str, name: str, assignment: str) -> bool:
    """Whether an unquoted value is data rather than code.

    Code assigns names (`tokenizer=tokenizer`, `key: SettingsSource`); secrets carry digits
    or symbols, except in an env-style `UPPER_NAME=value` line, where a value of letters
    alone is still somebody's password.
    """
    if _NOT_A_VALUE.match(value):
        return False
    if not _WORDS.match(value):
        return True
    return name.isupper() and "=" in assignment


#: Values the unquoted pattern must not take for secrets: code, not data.
_NOT_A_VALUE = re.compile(
    r"^(?:None|True|False|null|true|false|undefined|self\.\w+|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+|"
    r"\$\{?\w+\}?|<[^>]*>|\*+|x+|changeme)$"
)

#: detect-secrets plugins left out: a public IP address is not a secret.
_SKIPPED_PLUGINS = frozenset({"IPPublicDetector"})

Span = tuple[int, int, str]  # start, end, kind


@functools.cache
def _plugins() -> tuple[Any, ...]:
    """detect-secrets' default plugins, instantiated once (imported on first use)."""
    try:
        from detect_secrets.settings import default_settings, get_plugins
    except ImportError:  # pragma: no cover - a dependency; the own patterns still run
        log.warning("detect-secrets is not installed; only Tether's own patterns redact")
        return ()
    with default_settings():
        return tuple(p for p in get_plugins() if type(p).__name__ not in _SKIPPED_PLUGINS)


@functools.lru_cache(maxsize=65536)
def _line_secrets(line: str) -> tuple[str, ...]:
    """The secret values detect-secrets finds in one line (cached: prompts repeat lines)."""
    found: list[str] = []
    for plugin in _plugins():
        try:
            hits = plugin.analyze_line(filename="snippet", line=line, line_number=1)
        except Exception:  # a plugin bug must not stop redaction by the others
            continue
        for secret in hits:
            value = getattr(secret, "secret_value", None)
            if value and len(value) >= 6:
                found.append(value)
    return tuple(found)


def _detect_secrets_spans(text: str) -> Iterable[Span]:
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.rstrip("\r\n")
        if len(stripped) >= 8:
            for value in _line_secrets(stripped):
                start = stripped.find(value)
                while start >= 0:
                    yield offset + start, offset + start + len(value), "secret"
                    start = stripped.find(value, start + len(value))
        offset += len(line)


def find_spans(text: str, extra: Sequence[re.Pattern[str]] = ()) -> list[Span]:
    """Every secret's (start, end, kind) in `text`, overlaps merged (the widest wins)."""
    spans: list[Span] = []
    for kind, pattern, group in _COMPILED:
        for m in pattern.finditer(text):
            start, end = m.span(group)
            if end <= start:
                continue
            spans.append((start, end, kind))
    spans += _assigned_spans(text)
    for pattern in extra:
        spans += [(m.start(), m.end(), "custom") for m in pattern.finditer(text) if m.group()]
    spans += _detect_secrets_spans(text)
    return _merge(spans)


def _merge(spans: list[Span]) -> list[Span]:
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    out: list[Span] = []
    for start, end, kind in spans:
        if out and start < out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end, out[-1][2])
            continue
        out.append((start, end, kind))
    return out


@dataclass
class Redactor:
    """Redacts the texts of one request consistently and restores the values in answers."""

    extra_patterns: Sequence[str] = ()
    values: dict[str, str] = field(default_factory=dict)  # placeholder -> secret
    _by_value: dict[str, str] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    _extra: list[re.Pattern[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._extra = [re.compile(p) for p in self.extra_patterns]

    def _placeholder(self, kind: str, value: str) -> str:
        if value in self._by_value:
            return self._by_value[value]
        n = sum(1 for p in self.values if p.startswith(f"[REDACTED_{kind.upper()}_")) + 1
        ph = f"[REDACTED_{kind.upper()}_{n}]"
        self.values[ph] = value
        self._by_value[value] = ph
        return ph

    def redact(self, text: str) -> str:
        out: list[str] = []
        cursor = 0
        for start, end, kind in find_spans(text, self._extra):
            value = text[start:end]
            if value.startswith("[REDACTED_"):
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


RedactFn = Callable[[str], tuple[str, int]]


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
