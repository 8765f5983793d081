"""Proposals through Neovim's LSP client, against the real server and the real store."""

from __future__ import annotations

from nvim_harness import Nvim, Project, decision_rows


def test_suggest_accept_reject_and_approve(nvim: Nvim, project: Project) -> None:
    run = nvim.run("accept_reject.lua", str(project.file))

    assert run["keymap_accept"] == "Tether: accept the proposal under the cursor"
    proposal = run["proposal"]
    assert proposal["message"] == "Use the built-in sum."
    assert proposal["lnum"] == 0
    assert proposal["severity"] == 4  # vim.diagnostic.severity.HINT
    assert proposal["statusline"].startswith("Tether")

    accepted = run["accepted"]
    assert accepted["id"] == proposal["id"]
    assert accepted["text"].startswith("def total(prices):\n    return sum(prices)\n\n\ndef count")
    assert "result = result + p" not in accepted["text"]
    assert accepted["modified"] is True  # applied to the buffer, not written behind its back

    assert run["pending_count"] == 1
    pending = run["pending"]
    assert pending["title"] == "Tether: pending proposals"
    assert pending["text"].endswith("Add a docstring.")
    assert pending["bufname"] == str(project.file)
    assert run["rejected_by_command"]["reason"] == "it says nothing new"
    assert run["rejected_by_action"]["reason"] == "too wordy"
    assert run["rejected_by_action"]["inputs"] == ["Reason for rejecting: "]

    approval = run["approval"]
    assert approval["prompt"]["kind"] == "lsp_message"
    assert "public_signature" in approval["prompt"]["prompt"]
    assert approval["prompt"]["items"] == [  # never Approve as the default
        "Explain",
        "Reject",
        "Always ask for this kind",
        "Approve",
    ]
    assert 'def label(name, prefix=""):' in approval["text"]

    partial = run["partial"]
    assert partial["text"] == (
        'def header(title):\n    return "== " + title + " =="\n\n\n'
        'def line(label, value):\n    return f"{label}: {value}"'
    )
    assert partial["hunks"] == [1]

    # The store file holds exactly what the editor did, in order.
    rows = decision_rows(project.db)
    verdicts = [(r["outcome"], r["actor"], r["reason"]) for r in rows if r["outcome"] != "proposed"]
    assert verdicts == [
        ("accepted", "user", None),
        ("rejected", "user", "it says nothing new"),
        ("rejected", "user", "too wordy"),
        ("accepted", "user", None),
        ("partly_accepted", "user", None),  # hunks accepted in part are their own outcome
    ]
    assert rows[-1]["body"]["hunks"] == [1]  # only the second hunk was accepted
    by_outcome = {r["proposal_id"]: r for r in rows if r["outcome"] == "accepted"}
    assert proposal["id"] in by_outcome
    assert {r["proposal_id"] for r in rows if r["outcome"] == "rejected"} == {
        run["rejected_by_command"]["id"],
        run["rejected_by_action"]["id"],
    }
    # What Neovim was told matches the store row for row.
    told = [(d["outcome"], d["proposal_id"]) for d in run["decisions"]]
    assert told == [(r["outcome"], r["proposal_id"]) for r in rows]
