"""Issue 18's onboarding in VS Code: the walkthrough the extension declares (in the packaged
.vsix, and shown by the real workbench), and "Restart Server" applying a changed
`tether.model` (code-server + the built .vsix; every wait is on a condition)."""

from __future__ import annotations

import asyncio
import json
import re
import zipfile
from pathlib import Path

import pytest

from tether.decisions import DecisionStore

from .harness import build_vsix, setup
from .test_vscode_flows import FILE, FSTRING_1, FSTRING_2, HEAD, IS_NONE
from .workbench import answer, workbench

WALKTHROUGH = "tether.gettingStarted"
#: What a new user needs, in order: the server, a model, a suggestion, the panel, training.
STEPS = ["firstRun", "chooseModel", "review", "panel", "train"]


@pytest.fixture(scope="module")
def vsix() -> Path:
    setup(e2e=False)
    return build_vsix()


def test_vsix_declares_the_walkthrough_with_its_media(vsix: Path) -> None:
    with zipfile.ZipFile(vsix) as z:
        names = set(z.namelist())
        manifest = json.loads(z.read("extension/package.json"))
        contributes = manifest["contributes"]
        [walkthrough] = [w for w in contributes["walkthroughs"] if w["id"] == WALKTHROUGH]
        assert [s["id"] for s in walkthrough["steps"]] == STEPS
        commands = {c["command"] for c in contributes["commands"]}
        settings = set(contributes["configuration"]["properties"])
        views = {v["id"] for group in contributes["views"].values() for v in group}
        for step in walkthrough["steps"]:
            media = f"extension/{step['media']['markdown']}"
            assert media in names, f"{step['id']}: {media} is not in the .vsix"
            text = z.read(media).decode("utf-8")
            assert text.startswith("# ") and len(text) > 200, step["id"]
            # every button runs a command the extension declares (or opens its settings)
            links = re.findall(r"\(command:([\w.]+)(?:\?([^)]*))?\)", step["description"])
            assert links, f"{step['id']} has no button"
            for command, query in links:
                if command == "workbench.action.openSettings":
                    assert query.replace("%5B%22", "").replace("%22%5D", "") in settings
                else:
                    assert command in commands, (step["id"], command)
            for event in step["completionEvents"]:
                kind, _, what = event.partition(":")
                known = {"onCommand": commands, "onSettingChanged": settings, "onView": views}
                assert what in known[kind], (step["id"], event)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_code_server_shows_the_walkthrough(vsix: Path, tmp_path: Path) -> None:
    setup(e2e=True)
    with workbench(tmp_path, vsix, [answer("improve", FILE, "Nothing.", None)]) as wb:
        shown = wb.driver.step(
            "walkthrough", title="Get started with Tether", shot="walkthrough.png"
        )
        for title in (
            "Start the Tether server",
            "Choose a student model",
            "Review a suggestion",
            "See your decisions and profile",
            "Train on your decisions",
        ):
            assert title in shown["text"], shown["text"]
        assert Path(shown["screenshot"]).stat().st_size > 10_000


def _models(db: Path) -> list[str]:
    async def go() -> list[str]:
        store = await DecisionStore.open(db, create=False)
        try:
            return [p.model for p in await store.proposals()]
        finally:
            await store.close()

    return asyncio.run(go())


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_restart_server_applies_a_changed_model(vsix: Path, tmp_path: Path) -> None:
    setup(e2e=True)
    with workbench(tmp_path, vsix, [answer("improve", FILE, "Nothing to do.", None)]) as wb:
        d = wb.driver
        changed = tmp_path / "changed.jsonl"
        fstrings = HEAD + IS_NONE + FSTRING_1 + FSTRING_2
        changed.write_text(json.dumps(answer("improve", FILE, "f-strings.", fstrings)) + "\n")
        # the user changes tether.model in the Settings editor, then restarts the server
        d.step("setSetting", key="tether.model", value=f"replay:{changed}", file=str(wb.settings))
        d.step("restartServer")
        # the changed model answers (the first one would have answered in prose: an error)
        d.step("ask", file=FILE, first=15, last=18, words="use f-strings")
        d.step("diffShown", expect='return f"{self.name} x{self.quantity} at', shot="diff.png")
        assert _models(wb.db) == ["replay:changed.jsonl"]
