"""The Ollama Modelfile of a bundle: base GGUF, the GGUF adapter, the agent's system text
and the sampling Tether itself uses, so `ollama create` gives the agent the user trained."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from tether.agent.spec import AgentSpec
from tether.config import Settings

#: SmolLM2's chat turns end with this token; Ollama must stop there as Tether does.
DEFAULT_STOPS = ("<|im_end|>",)


class ModelfileSpec(BaseModel):
    base: str  # FROM: a path relative to the Modelfile, or a model name Ollama knows
    adapter: str | None = None  # ADAPTER: the GGUF adapter, relative to the Modelfile
    system: str
    parameters: dict[str, list[str]] = Field(default_factory=dict)


def system_text(spec: AgentSpec) -> str:
    """What the agent is for and the boundaries it keeps, in its own words."""
    lines = [spec.purpose.strip()]
    if spec.tasks:
        lines.append(
            "Tasks: " + "; ".join(f"{t.name}: {t.instruction.strip()}" for t in spec.tasks)
        )
    b = spec.boundaries
    if b.max_lines:
        lines.append(f"Never change more than {b.max_lines} lines in one edit.")
    if b.never_touch:
        lines.append("Never touch: " + ", ".join(b.never_touch) + ".")
    lines.append("Answer with one fenced code block for the selected range, then one line of why.")
    return "\n".join(line for line in lines if line)


def parameters(settings: Settings) -> dict[str, list[str]]:
    """Ollama PARAMETERs matching how Tether samples the student."""
    return {
        "temperature": [f"{settings.temperature:g}"],
        "num_predict": [str(settings.max_new_tokens)],
        "stop": list(DEFAULT_STOPS),
    }


def _quote(text: str) -> str:
    # Ollama's triple-quoted strings cannot contain three quotes in a row.
    return '"""' + re.sub(r'"""', '" " "', text) + '"""'


def render(spec: ModelfileSpec) -> str:
    lines = [f"FROM {spec.base}"]
    if spec.adapter:
        lines.append(f"ADAPTER {spec.adapter}")
    for name, values in spec.parameters.items():
        lines.extend(f"PARAMETER {name} {_value(v)}" for v in values)
    lines.append(f"SYSTEM {_quote(spec.system)}")
    return "\n".join(lines) + "\n"


def _value(value: str) -> str:
    return f'"{value}"' if any(c.isspace() or c in "<|>" for c in value) else value


def parse(text: str) -> dict[str, list[str]]:
    """Read a Modelfile back into {instruction: [arguments]} (tests, `publish --check`)."""
    out: dict[str, list[str]] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if rest.startswith('"""'):
            body = rest[3:]
            while not body.endswith('"""'):
                body += "\n" + next(lines)
            rest = body[:-3]
        out.setdefault(word.upper(), []).append(rest)
    return out
