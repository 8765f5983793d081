"""Builders for real proposals used by the store tests."""

from __future__ import annotations

from tether.core.diff import make_hunks
from tether.core.response_format import render_completion
from tether.core.types import Candidate, Position, Proposal, Range

ORIGINAL = "name = 'x'\nprint('hello %s' % name)\ncount = 0\nif name == None:\n    pass\n"
PROPOSED = "name = 'x'\nprint(f'hello {name}')\ncount = 0\nif name is None:\n    pass\n"


def make_proposal(
    original: str = ORIGINAL,
    proposed: str = PROPOSED,
    *,
    path: str = "src/app.py",
    class_key: str = "improve|python|src|small",
    candidates: list[str] | None = None,
) -> Proposal:
    texts = candidates or [proposed]
    cands = [Candidate(text=t, completion=render_completion(t)) for t in texts]
    lines = original.count("\n")
    return Proposal(
        uri=f"file:///ws/{path}",
        path=path,
        version=1,
        range=Range.of(0, 0, lines, 0),
        task="improve",
        class_key=class_key,
        rationale="Use modern idioms",
        original=original,
        proposed=texts[0],
        hunks=make_hunks(original, texts[0], Position(line=0, character=0)),
        candidates=cands,
        prompt=f"<prompt for {path}>",
        completion=cands[0].completion,
        model="replay:test",
    )
