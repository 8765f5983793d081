"""Building the chat messages the model sees: purpose, task, memory, then the code.

The answer format is taught by example as well as by instruction: a 135M-parameter model
follows a demonstration far more reliably than a description, so the user's own accepted
edits (from memory) are shown as earlier turns, and a built-in example stands in until
there are some. Every example answer is rendered through `render_completion`, the same
function training uses, so the format the model sees, produces and learns is one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from pydantic import BaseModel

from tether.agent.spec import AgentSpec, TaskSpec
from tether.core.memory import Exemplar, MemoryContext
from tether.core.response_format import FENCE, render_completion
from tether.core.types import Range

Message = dict[str, str]

MAX_EXAMPLE_LINES = 40
MAX_SHOTS = 2


class DiagnosticInfo(BaseModel):
    """A problem the editor reports in the selection (for the fix task)."""

    message: str
    range: Range | None = None
    source: str | None = None
    code: str | int | None = None
    severity: int | None = None


@dataclass(frozen=True)
class CodeView:
    """The code the prompt shows: the selection and the lines around it."""

    path: str
    language: str
    original: str
    before: str
    after: str
    first_line: int  # zero-based line of the selection's start


class _Example(NamedTuple):
    before: str
    selected: str
    after: str
    rationale: str
    replacement: str


# One demonstration per default task. Each shows context around the selection and an
# answer that rewrites only the selected lines: small models otherwise echo the context.
_BUILTIN_EXAMPLES: dict[str, _Example] = {
    "improve": _Example(
        "def label(name, count):",
        '    if name == None:\n        name = "item"\n    return "%s: %d" % (name, count)',
        "\n\ndef total(items):",
        "Compare with `is None` and use an f-string.",
        '    if name is None:\n        name = "item"\n    return f"{name}: {count}"',
    ),
    "document": _Example(
        "import math\n",
        "def area(radius):\n    return math.pi * radius ** 2",
        "",
        "Add a docstring saying what the function computes.",
        'def area(radius):\n    """Area of a circle of the given radius."""\n'
        "    return math.pi * radius ** 2",
    ),
    "fix": _Example(
        "def first(items):",
        "    if len(items) > 0\n        return items[0]",
        "    return None",
        "Add the missing colon after the condition.",
        "    if len(items) > 0:\n        return items[0]",
    ),
}


#: The worked examples' sentences: an answer that repeats one did not describe its own edit.
EXAMPLE_RATIONALES = frozenset(e.rationale for e in _BUILTIN_EXAMPLES.values())


def fenced(code: str, language: str) -> str:
    body = code if code.endswith("\n") or not code else code + "\n"
    return f"{FENCE}{language}\n{body}{FENCE}"


def _clip(code: str, lines: int = MAX_EXAMPLE_LINES) -> str:
    parts = code.splitlines()
    return "\n".join(parts[:lines]) + ("\n..." if len(parts) > lines else "")


def system_message(
    spec: AgentSpec, task: TaskSpec, memory: MemoryContext, instruction: str = ""
) -> str:
    parts = [spec.purpose.strip(), f"Task: {task.instruction.strip()}"]
    if instruction.strip():
        parts.append(f"The user asks, in their own words: {instruction.strip()}")
    parts.append(
        "Answer with one short sentence saying what you changed, then exactly one fenced "
        "code block holding the complete new version of the selected code. Keep its "
        "indentation. Do not repeat code from before or after the selection."
    )
    if memory.rules:
        parts.append(
            "Rules this user agreed on:\n" + "\n".join(f"- {r.text}" for r in memory.rules)
        )
    if memory.reflections:
        parts.append(
            "Lessons from this user's earlier decisions:\n"
            + "\n".join(f"- {r.text}" for r in memory.reflections)
        )
    rejected = [e for e in memory.exemplars if e.decision == "rejected" and e.feedback]
    if rejected:
        parts.append(
            "Changes this user rejected:\n"
            + "\n".join(f"- {e.task} on {e.path}: {e.feedback}" for e in rejected)
        )
    return "\n\n".join(parts)


def user_message(
    view: CodeView, diagnostics: Sequence[DiagnosticInfo] = (), instruction: str = ""
) -> str:
    n_lines = max(1, len(view.original.splitlines()))
    lines = [f"File: {view.path} ({view.language})"]
    if instruction.strip():
        lines.append(f"Request: {instruction.strip()}")
    if diagnostics:
        lines.append("Diagnostics:")
        for d in diagnostics:
            where = f"line {d.range.start.line + 1}: " if d.range is not None else ""
            code = f" ({d.code})" if d.code is not None else ""
            lines.append(f"- {where}{d.message}{code}")
    if view.before.strip():
        lines.append("Code before the selection (do not change):")
        lines.append(fenced(view.before, view.language))
    lines.append(
        f"Selected code, lines {view.first_line + 1}-{view.first_line + n_lines} (replace this):"
    )
    lines.append(fenced(view.original, view.language))
    if view.after.strip():
        lines.append("Code after the selection (do not change):")
        lines.append(fenced(view.after, view.language))
    return "\n".join(lines)


def _shots(task: TaskSpec, language: str, exemplars: Sequence[Exemplar]) -> list[Message]:
    good = [e for e in exemplars if e.good][:MAX_SHOTS]
    shots: list[Message] = []
    for e in good:
        view = CodeView(e.path, e.language, _clip(e.original), "", "", 0)
        shots.append({"role": "user", "content": user_message(view)})
        shots.append(
            {"role": "assistant", "content": render_completion(_clip(e.final or ""), e.language)}
        )
    if not shots and language == "python":
        ex = _BUILTIN_EXAMPLES.get(task.name, _BUILTIN_EXAMPLES["improve"])
        first = len(ex.before.splitlines())
        view = CodeView("example.py", "python", ex.selected, ex.before, ex.after, first)
        shots.append({"role": "user", "content": user_message(view)})
        shots.append(
            {
                "role": "assistant",
                "content": render_completion(ex.replacement, "python", ex.rationale),
            }
        )
    return shots


def build_messages(
    spec: AgentSpec,
    task: TaskSpec,
    view: CodeView,
    memory: MemoryContext,
    diagnostics: Sequence[DiagnosticInfo] = (),
    instruction: str = "",
) -> list[Message]:
    """The whole-selection prompt: what the student is trained on, whatever answered."""
    return [
        {"role": "system", "content": system_message(spec, task, memory, instruction)},
        *_shots(task, view.language, memory.exemplars),
        {"role": "user", "content": user_message(view, diagnostics, instruction)},
    ]


def render_chatml(messages: Sequence[Message], add_generation_prompt: bool = True) -> str:
    """A deterministic rendering for models whose template we do not hold (Ollama, cloud).

    It is ChatML, the template of the embedded SmolLM2, so a teacher's prompt rendered here
    is the very prompt the student would be trained on.
    """
    out = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return out + ("<|im_start|>assistant\n" if add_generation_prompt else "")
