"""Local inference engines the user already runs, found the way a harness would: their
usual loopback ports, each asked `GET /v1/models` with a short timeout.

Only loopback is probed, and nothing is sent but that one request; an engine that does
not answer within the timeout is simply not listed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from pydantic import BaseModel

from tether.serve.backends import probe

#: (engine, port) pairs: Ollama, llama.cpp's server (8080 by default; 8081 when 8080 is
#: taken), vLLM.
USUAL_PORTS: tuple[tuple[str, int], ...] = (
    ("ollama", 11434),
    ("llamacpp", 8080),
    ("llamacpp", 8081),
    ("vllm", 8000),
)


class Engine(BaseModel):
    kind: str
    url: str
    models: list[str]

    @property
    def student_choices(self) -> list[str]:
        """What the model setting would say to use each model (Ollama's own provider;
        the others through `tether serve --backend KIND`)."""
        if self.kind == "ollama":
            return [f"ollama:{m}" for m in self.models]
        return [f"{self.kind}:{m}" for m in self.models]


async def discover(
    ports: Sequence[tuple[str, int]] = USUAL_PORTS, *, timeout: float = 0.3
) -> list[Engine]:
    async def one(kind: str, port: int) -> Engine | None:
        url = f"http://127.0.0.1:{port}"
        models = await probe(url, timeout=timeout)
        return None if models is None else Engine(kind=kind, url=url, models=models)

    found = await asyncio.gather(*(one(kind, port) for kind, port in ports))
    return [e for e in found if e is not None]
