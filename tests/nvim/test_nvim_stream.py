"""The model's answer streams into Neovim while it is written (issue 18), against the real
server with a recorded answer played back line by line."""

from __future__ import annotations

import itertools
import json

from nvim_harness import Nvim, Project

ANSWER = "Use the built-in sum.\n```python\ndef total(prices):\n    return sum(prices)\n```"


def test_the_answer_streams_into_the_progress_display(nvim: Nvim, project: Project) -> None:
    entry = {"task": "improve", "path": "src/cart.py", "completion": ANSWER}
    project.replay.write_text(json.dumps(entry) + "\n", encoding="utf-8")
    stream = nvim.run("stream.lua", str(project.file))["stream"]

    reports = stream["reports"]
    assert len(reports) >= 2, stream
    for earlier, later in itertools.pairwise(reports):
        assert later.startswith(earlier) and len(later) > len(earlier)
    assert reports[-1] == ANSWER
    # the echo area shows the line being written, never the multi-line answer itself
    echoes = stream["echoes"]
    assert any(
        e.startswith("Tether: use the built-in sum line 3: return sum(prices)") for e in echoes
    ), echoes
    assert not any("\n" in e for e in echoes), echoes
    # and each fits the echo area (a longer one would stop on a hit-enter prompt)
    assert all(len(e) <= stream["echospace"] for e in echoes), (stream["echospace"], echoes)
