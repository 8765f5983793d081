"""The API's bearer token: made on first run, kept in a file only its owner can read.

The log never holds the token itself, only its id (the first 12 hex digits of its
SHA-256), so decisions can be traced to a client without the log becoming a credential.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

TOKEN_FILE = "serve-token"


def token_id(token: str) -> str:
    return "tok_" + hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]


def load_or_create(path: Path) -> tuple[str, bool]:
    """The token in `path`, creating it (mode 0600) on first run; (token, created)."""
    if path.is_file():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)  # someone loosened it; the token is a credential
            return token, False
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    path.chmod(0o600)
    return token, True


def matches(expected: str, header: str | None) -> bool:
    """Whether an Authorization header carries the token (constant-time comparison)."""
    if not header:
        return False
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode("utf-8"), expected.encode("utf-8"))
