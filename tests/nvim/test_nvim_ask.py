"""Issue 18 in Neovim, against the real server: requests in your own words, Refine and
Regenerate, errors with actions, a history sized to the screen, helptags, the statusline."""

from __future__ import annotations

import json

from nvim_harness import Nvim, Project, decision_rows

TOTAL = "def total(prices):\n"


def _answer(code: str, why: str) -> dict[str, str]:
    fenced = f"{why}\n```python\n{code}```"
    return {"task": "improve", "path": "src/cart.py", "completion": fenced}


def test_ask_refine_regenerate_history_statusline(nvim: Nvim, project: Project) -> None:
    replay = [
        {"task": "improve", "path": "src/cart.py", "completion": "Just use sum, it is nicer."},
        _answer(TOTAL + "    return sum(prices)\n", "Use the built-in sum."),
        _answer(
            TOTAL + "    result = 0\n    for p in prices:\n        result += p\n"
            "    return result\n",
            "Keep the loop with +=.",
        ),
        _answer(TOTAL + "    return sum(prices, 0)\n", "Sum from zero."),
    ]
    project.replay.write_text("".join(json.dumps(e) + "\n" for e in replay), encoding="utf-8")
    run = nvim.run("ask_refine.lua", str(project.file))

    helptags = run["helptags"]
    assert helptags == {"tags": True, "help": True, "ask_help": True}

    ask = run["ask"]
    assert ask["inputs"][0] == "Ask Tether (in your own words): "
    # the server's words, one prefix, no internal validator text; its actions offered
    assert ask["error"].startswith("Tether: No suggestion for this selection")
    assert "no code block" not in ask["error"] and "Tether: Tether" not in ask["error"]
    assert ask["error_menu"]["items"][0] == "Retry"

    ids = run["ids"]
    rows = decision_rows(project.db)
    by_id = {(r["proposal_id"], r["outcome"]): r for r in rows}
    refined = by_id[(ids["first"], "rejected")]
    assert refined["reason"] == "keep the loop, just use +="  # the words are training signal
    assert refined["body"]["data"] == {"replaced_by": [ids["second"]], "via": "refine"}
    regenerated = by_id[(ids["second"], "rejected")]
    assert regenerated["body"]["data"]["via"] == "regenerate"
    assert (ids["third"], "accepted") in by_id

    assert run["statusline"] == "Tether"

    history = run["history"]
    size = history["size"]
    # sized to the screen, not a 20x3 sliver: most of its width, at least 12 rows
    assert size["width"] >= min(80, int(size["columns"] * 0.85)) and size["height"] >= 12
    assert size["width"] <= size["columns"] and size["height"] <= size["lines"] - 4
    text = "\n".join(history["lines"])
    assert "    reason     keep the loop, just use +=" in text
    assert "+    return sum(prices)" in text  # the expanded row's diff (the refined one)
    assert history["height_after"] >= size["height"]
