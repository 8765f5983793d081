"""Students the model setting can name on this machine (issue 15): the embedded model and
what local engines (Ollama, llama.cpp's server, vLLM) serve, the published agent first.

Mirrors `tether.serve.engines.StudentChoice`; declared here so the contract does not
import the serve package.
"""

from __future__ import annotations

from pydantic import Field

from tether.protocol.wire import Wire


class StudentChoiceView(Wire):
    model: str = Field(description="The value for the model setting, as it is.")
    label: str
    detail: str = Field(description="Where it runs, and what it needs, in words.")
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Environment the Tether server needs for it (an engine's address).",
    )
    published: bool = Field(False, description="The agent Tether published, imported in Ollama.")


class StudentsResult(Wire):
    current: str = Field(description="The model setting now in effect.")
    choices: list[StudentChoiceView]
