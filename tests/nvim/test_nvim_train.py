""":TetherTrain from Neovim: a real (one-step) training run of the embedded model on the
decisions in the store, with LSP progress, training status notifications and a new adapter."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from nvim_harness import Nvim, Project, adapter_rows, decision_rows, seed_corrections


@pytest.mark.slow
async def test_train_shows_progress_and_makes_an_adapter(nvim: Nvim, project: Project) -> None:
    await seed_corrections(project.db, 6)
    run = await asyncio.to_thread(nvim.run, "train.lua", str(project.file), timeout=240)

    kinds = [p["kind"] for p in run["progress"]]
    assert kinds[0] == "begin" and kinds[-1] == "end"
    assert "report" in kinds
    assert run["progress"][0]["title"] == "Tether: training"
    # While it ran, the statusline said so.
    assert any(s.startswith("Tether: training") for s in run["statuslines"]), run["statuslines"]

    states = run["states"]
    assert states[-1] == "idle"
    assert "training" in states  # the worker reported steps

    result = run["result"]
    assert result["status"] in ("promoted", "refused"), result
    assert result["version"] == "v1"
    outcome_line = (
        "adapter v1 is now active" if result["status"] == "promoted" else "adapter v1 was"
    )
    assert any(outcome_line in n for n in run["notifications"]), run["notifications"]
    assert any(line.startswith("v1") for line in run["profile"]), run["profile"]

    adapters = adapter_rows(project.db)
    assert [a["version"] for a in adapters] == ["v1"]
    assert adapters[0]["status"] == ("active" if result["status"] == "promoted" else "refused")
    assert (Path(adapters[0]["path"]) / "lineage.json").is_file()
    outcomes = [r["outcome"] for r in decision_rows(project.db)]
    expected = "adapter_promoted" if result["status"] == "promoted" else "adapter_refused"
    assert outcomes[-1] == expected
