"""The API's token file and rate limiter, without a server."""

from __future__ import annotations

import stat
from pathlib import Path

from tether.serve import auth
from tether.serve.limits import RateLimiter


def test_token_made_once_with_owner_only_mode(tmp_path: Path) -> None:
    path = tmp_path / "store" / auth.TOKEN_FILE
    token, created = auth.load_or_create(path)
    assert created and len(token) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)  # loosened by someone: tightened again, same token
    again, created = auth.load_or_create(path)
    assert again == token and not created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert auth.matches(token, f"Bearer {token}") and auth.matches(token, f"bearer {token} ")
    assert not auth.matches(token, None) and not auth.matches(token, token)
    assert not auth.matches(token, f"Basic {token}") and not auth.matches(token, "Bearer x")
    assert auth.token_id(token).startswith("tok_") and token not in auth.token_id(token)


def test_rate_limiter_window() -> None:
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert limiter.check("a") is None and limiter.check("a") is None
    assert limiter.check("a") == 60.0
    assert limiter.check("b") is None  # per client
    now[0] = 30.0
    assert limiter.check("a") == 30.0
    now[0] = 60.0
    assert limiter.check("a") is None
