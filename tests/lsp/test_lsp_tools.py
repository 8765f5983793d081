"""ruff's fix reaches the editor as a proposal, end to end over LSP, with no model call.

The server's model is a replay file that holds no answer for this request, so the only
way a proposal can appear is through ruff: located, fixed, verified, shown, accepted.
"""

from __future__ import annotations

from pathlib import Path

from tether.core.types import Range

from .conftest import Launch

SOURCE = (
    "def is_empty(items):\n    if items == None:\n        return True\n    return len(items) == 0\n"
)


async def test_a_ruff_fix_becomes_a_proposal_and_is_accepted(launch: Launch, ws: Path) -> None:
    editor = await launch("vscode", replay=[{"task": "document", "completion": "unused"}])
    uri = editor.open("empty.py", SOURCE)
    [pid] = await editor.propose(uri, Range.of(0, 0, 3, 26), "improve")
    [diag] = await editor.diagnostics_for(uri, 1)
    assert diag.message.startswith("E711: Replace with `cond is None`")
    view = await editor.request("tether/proposal", {"proposalId": pid})
    assert view["kind"] == "E711" and view["role"] == "tool"
    await editor.command("tether.accept", {"proposalId": pid})
    await editor.decision("accepted", pid)
    assert "    if items is None:\n" in editor.text(uri)
