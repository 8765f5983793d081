"""Docstrings from a small model: it writes the sentence, Tether writes the docstring.

Asked to return a def header with a docstring under it, a 135M model rewrites the header,
adds a body or runs out of tokens; asked for one sentence about a function it shows, it
usually manages. So for a missing docstring the model answers with the sentence alone and
the docstring (quotes, indentation, placement under the header) is built here; the
verifier still checks the result like any other candidate.
"""

from __future__ import annotations

import builtins
import keyword
import re

from tether.agent.prompting import Message, fenced
from tether.agent.spec import AgentSpec
from tether.agent.spots import RangeText, Spot

#: Body lines shown under the header: enough to say what the function does.
BODY_LINES = 12
MAX_CHARS = 120

_EXAMPLE_CODE = (
    "def area(radius):\n    if radius < 0:\n        raise ValueError(radius)\n"
    "    return math.pi * radius ** 2"
)
_EXAMPLE_ANSWER = "Return the area of a circle of the given radius."


def docstring_messages(spec: AgentSpec, path: str, rt: RangeText, spot: Spot) -> list[Message]:
    """Ask for one sentence saying what the definition at the spot does."""
    lines = rt.document.split("\n")
    code = "\n".join(lines[spot.first : spot.last + 1 + BODY_LINES])
    system = (
        f"{spec.purpose.strip()}\n\nWrite the docstring of the definition shown: one short "
        "sentence saying what it does or returns, in the imperative mood. Answer with the "
        "sentence only, no code and no quotes."
    )
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"File: example.py\n{fenced(_EXAMPLE_CODE, 'python')}"},
        {"role": "assistant", "content": _EXAMPLE_ANSWER},
        {"role": "user", "content": f"File: {path}\n{fenced(code, 'python')}"},
    ]


def sentence(answer: str) -> str | None:
    """The docstring sentence in a model's answer, or None when it holds none."""
    text = re.sub(r"```[\w+-]*", " ", answer)
    for line in text.strip().splitlines():
        line = line.strip().strip("\"'`").strip()
        if line:
            break
    else:
        return None
    line = re.sub(r"\s+", " ", line)
    if '"""' in line or "\\" in line or len(line) > MAX_CHARS or len(line.split()) < 3:
        return None
    if not re.match(r"[A-Za-z]", line) or re.search(r"[{};]|\bdef\b|\breturn\b\s*\(", line):
        return None
    line = line[0].upper() + line[1:]
    return line if line.endswith((".", "!", "?")) else line + "."


#: Words in a sentence that read as code: `quoted`, dotted (`data.py`, `os.path`), with an
#: underscore, camelCase, or called (`load()`).
_CODE_LIKE = re.compile(
    r"`([^`]+)`"
    r"|\b([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(?=\W|$)"
    r"|\b(\w*_\w*|[a-z]+[A-Z]\w*)\b"
    r"|\b([A-Za-z_]\w*)\(\)"
)
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_ALWAYS_KNOWN = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | {"self", "cls"}


def known_names(document: str) -> frozenset[str]:
    """Every identifier in the document, with builtins and keywords: what a docstring about
    this file may name."""
    return frozenset(_IDENTIFIER.findall(document)) | _ALWAYS_KNOWN


def foreign_names(text: str, known: frozenset[str]) -> list[str]:
    """Names a docstring sentence mentions that are not `known` (see `known_names`).

    A small model asked to describe `threshold()` sometimes answers with an unrelated
    instruction ("Create a new file named `data_path.py`"); words that read as code and
    that the file does not have are the sign of a sentence about something else. Prose
    words are not judged: a good description may use words the code does not.
    """
    foreign: list[str] = []
    for match in _CODE_LIKE.finditer(text):
        name = next(g for g in match.groups() if g)
        parts = _IDENTIFIER.findall(name)
        if all(len(part) == 1 for part in parts):  # "e.g.", "i.e."
            continue
        if any(part not in known for part in parts) and name not in foreign:
            foreign.append(name)
    return foreign


def with_docstring(header: str, text: str, indent: str) -> str:
    """The header followed by a one-line docstring at the body's indentation."""
    return f'{header}\n{indent}"""{text}"""'


def body_indent(rt: RangeText, spot: Spot) -> str:
    """The indentation of the first body line under the header (or the header's + 4)."""
    lines = rt.document.split("\n")
    for line in lines[spot.last + 1 :]:
        if line.strip():
            return line[: len(line) - len(line.lstrip())]
    header = lines[spot.first]
    return header[: len(header) - len(header.lstrip())] + "    "
