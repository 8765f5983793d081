"""Request size and rate limits for the API, so one client cannot starve the model or memory.

The size limit is plain ASGI middleware: it refuses a declared `Content-Length` over the
limit at once, and stops reading a body (chunked or lying) as soon as it passes the limit.
"""

from __future__ import annotations

import json
import time
from collections import deque
from typing import Any

Scope = dict[str, Any]


def error_json(status: int, kind: str, message: str) -> bytes:
    return json.dumps({"error": {"type": kind, "message": message, "status": status}}).encode()


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: 413 for bodies over `max_bytes`."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge()
            return message

        async def tracked_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Any) -> None:
        body = error_json(
            413,
            "too_large",
            f"the request body is over the {self.max_bytes:,}-byte limit (serve.max_body_bytes); "
            "send less code at once",
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """At most `per_minute` requests per client in any 60-second window."""

    def __init__(self, per_minute: int, clock: Any = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}

    def check(self, client: str) -> float | None:
        """None when allowed (and counted), else seconds until the next request is."""
        now = self.clock()
        window = self._seen.setdefault(client, deque())
        while window and now - window[0] >= 60.0:
            window.popleft()
        if len(window) >= self.per_minute:
            return 60.0 - (now - window[0])
        window.append(now)
        return None
