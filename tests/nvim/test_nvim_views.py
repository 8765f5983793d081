"""The plugin's windows and checks against the real server: history, diff, profile, verify,
and :checkhealth tether with the client attached."""

from __future__ import annotations

import sys

from nvim_harness import Nvim, Project, decision_rows


def test_history_diff_profile_verify_health(nvim: Nvim, project: Project) -> None:
    run = nvim.run("views.lua", str(project.file))
    rows = decision_rows(project.db)
    accepted = next(r for r in rows if r["outcome"] == "accepted")

    pending_diff = run["pending_diff"]
    assert pending_diff["windows"] == 2
    assert "state: pending" in pending_diff["lines"][0]
    assert "+    return sum(prices)" in pending_diff["lines"]

    assert "return sum(prices)" in run["accepted_text"]

    history = run["history"]
    assert history["floating"] is True
    assert history["total"] == len(rows) == 2
    header, rule, *body = history["lines"]
    assert header.split() == ["#", "when", "outcome", "by", "path", "class", "proposal", "reason"]
    assert set(rule.replace(" ", "")) == {"─"}
    # Newest first, one line per stored row, with what the store says.
    assert body[0].split()[0] == str(accepted["seq"])
    assert "accepted" in body[0] and "user" in body[0] and "src/cart.py" in body[0]
    assert accepted["proposal_id"][:8] in body[0]
    assert "proposed" in body[1] and "system" in body[1]
    assert body[-1].startswith("decisions 1–2 of 2")

    diff = run["diff"]
    assert diff["history_closed"] is True
    assert diff["floating"] is False and diff["windows"] == 2  # a split beside the file
    assert diff["filetype"] == "diff"
    assert diff["lines"][0].startswith(f"# proposal {accepted['proposal_id']}")
    assert "-        result = result + p" in diff["lines"]
    assert "-    return result" in diff["lines"]
    assert "+    return sum(prices)" in diff["lines"]

    profile = run["profile"]
    assert profile["floating"] is True
    lines = profile["lines"]
    assert lines[0] == "Decision classes (1)"
    class_key = accepted["body"]["class_key"]
    class_line = next(line for line in lines if line.startswith(class_key))
    assert class_line.split()[1] == "ask"  # one accept is not enough to act alone
    assert "Adapters (0)" in lines

    assert run["verify"] == f"Tether: chain OK: 2 decisions, head {rows[-1]['hash'][:12]}"

    health = run["health"]
    text = "\n".join(health)
    assert "ERROR" not in text and "WARNING" not in text, text
    assert f"OK interpreter {sys.executable}" in text
    assert "OK server found: tether" in text
    assert f"OK model replay:{project.replay}: replay file found" in text
    assert f"OK store writable: {project.db}" in text
    assert f"workspace {project.root}, 1 buffer(s)" in text
