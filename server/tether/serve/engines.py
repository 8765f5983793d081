"""Local inference engines the user already runs, found the way a harness would: their
usual loopback ports, each asked `GET /v1/models` with a short timeout.

Only loopback is probed, and nothing is sent but that one request; an engine that does
not answer within the timeout is simply not listed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from pydantic import BaseModel, Field

from tether.serve.backends import probe

#: (engine, port) pairs: Ollama, llama.cpp's server (8080 by default; 8081 when 8080 is
#: taken), vLLM.
USUAL_PORTS: tuple[tuple[str, int], ...] = (
    ("ollama", 11434),
    ("llamacpp", 8080),
    ("llamacpp", 8081),
    ("vllm", 8000),
)


#: Engine kinds in words.
ENGINE_NAMES = {"ollama": "Ollama", "llamacpp": "llama.cpp's server", "vllm": "vLLM"}

#: Where litellm's OpenAI-compatible provider (`hosted_vllm/NAME`) sends requests.
OPENAI_COMPATIBLE_BASE = "HOSTED_VLLM_API_BASE"


class StudentChoice(BaseModel):
    """A value the `model` setting accepts, offered because an engine here serves it."""

    model: str  # e.g. ollama:qwen2.5-coder:7b, litellm:hosted_vllm/NAME
    label: str
    detail: str
    env: dict[str, str] = Field(
        default_factory=dict, description="What the server's environment needs for it."
    )
    published: bool = False  # the agent Tether published (a bundle imported into Ollama)


class Engine(BaseModel):
    kind: str
    url: str
    models: list[str]

    def choices(self) -> list[StudentChoice]:
        """Each model as a student: Ollama through Tether's own Ollama provider; llama.cpp's
        server and vLLM through litellm's OpenAI-compatible provider, which reads the
        engine's address from the environment (the model setting is only a name)."""
        where = f"{ENGINE_NAMES.get(self.kind, self.kind)} at {self.url}"
        if self.kind == "ollama":
            return [
                StudentChoice(
                    model=f"ollama:{m}",
                    label=m,
                    detail=where,
                    published=_is_published(m),
                )
                for m in self.models
            ]
        base = f"{self.url}/v1"
        return [
            StudentChoice(
                model=f"litellm:hosted_vllm/{m}",
                label=m,
                detail=f"{where} (OpenAI-compatible; start Tether with "
                f"{OPENAI_COMPATIBLE_BASE}={base})",
                env={OPENAI_COMPATIBLE_BASE: base},
            )
            for m in self.models
        ]

    @property
    def student_choices(self) -> list[str]:
        """What the model setting would say to use each model."""
        return [c.model for c in self.choices()]


def _is_published(name: str) -> bool:
    """A bundle imported with `ollama create tether-vN -f …/Modelfile` (or `tether`)."""
    base = name.partition(":")[0]
    return base == "tether" or (base.startswith("tether-v") and base[8:].isdigit())


def student_choices(engines: Sequence[Engine], current: str) -> list[StudentChoice]:
    """The students a user can pick here: the embedded model, then what each engine
    serves, the published agent first."""
    out = [
        StudentChoice(
            model="embedded:smollm2",
            label="embedded:smollm2",
            detail="SmolLM2-135M in this process, with Tether's adapters (the default)",
        )
    ]
    found = [c for e in engines for c in e.choices()]
    out += sorted(found, key=lambda c: not c.published)
    if current and all(c.model != current for c in out):
        out.insert(0, StudentChoice(model=current, label=current, detail="the current setting"))
    return out


async def discover(
    ports: Sequence[tuple[str, int]] = USUAL_PORTS, *, timeout: float = 0.3
) -> list[Engine]:
    async def one(kind: str, port: int) -> Engine | None:
        url = f"http://127.0.0.1:{port}"
        models = await probe(url, timeout=timeout)
        return None if models is None else Engine(kind=kind, url=url, models=models)

    found = await asyncio.gather(*(one(kind, port) for kind, port in ports))
    return [e for e in found if e is not None]
