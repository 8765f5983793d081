"""The VS Code extension without the workbench: its TypeScript unit tests, its webview in
headless Chromium, and the packaged .vsix (what `make vsix` builds and users install)."""

from __future__ import annotations

import json
import re
import zipfile

import pytest

from .harness import CLIENT, build_vsix, run, setup

#: The palette commands the product promises (title → command id).
PALETTE = {
    "Train Now": "tether.ui.trainNow",
    "Show Decision History": "tether.ui.showHistory",
    "Show Profile": "tether.ui.showProfile",
    "Review Pending Suggestions": "tether.ui.reviewPending",
    "Accept Suggestion": "tether.ui.accept",
    "Reject Suggestion": "tether.ui.reject",
    "Verify Audit Log": "tether.ui.verify",
    "Pin Decision Class": "tether.ui.pin",
    "Open Agent Spec": "tether.ui.openSpec",
    "Restart Server": "tether.ui.restart",
    "Ask…": "tether.ui.ask",
    "Regenerate Suggestion": "tether.ui.regenerate",
    "Refine Suggestion…": "tether.ui.refine",
}


def _counts(output: str) -> tuple[int, int]:
    passed = re.search(r"^# pass (\d+)$", output, re.M)
    failed = re.search(r"^# fail (\d+)$", output, re.M)
    assert passed and failed, output[-3000:]
    return int(passed.group(1)), int(failed.group(1))


def test_typescript_unit_tests_pass() -> None:
    setup(e2e=False)
    proc = run(["npm", "test", "--silent"], cwd=CLIENT, check=False)
    passed, failed = _counts(proc.stdout)
    assert proc.returncode == 0 and failed == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert passed >= 40


@pytest.mark.slow
def test_webview_in_headless_chromium() -> None:
    setup(e2e=True)
    run(["npm", "run", "--silent", "compile-tests"], cwd=CLIENT)
    proc = run(["node", "--test", "webview.test.js"], cwd=CLIENT / "e2e", check=False)
    passed, failed = _counts(proc.stdout)
    assert proc.returncode == 0 and failed == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert passed >= 10


def test_vsix_holds_the_bundle_and_the_contributions() -> None:
    setup(e2e=False)
    vsix = build_vsix()
    with zipfile.ZipFile(vsix) as z:
        names = {n.lower() for n in z.namelist()}
        manifest = json.loads(z.read("extension/package.json"))
    assert {
        "extension/out/extension.js",
        "extension/media/panel.js",
        "extension/media/panel.css",
        "extension/readme.md",
    } <= names
    assert not any("/node_modules/" in n or n.startswith("extension/src/") for n in names)

    assert manifest["engines"]["vscode"] == "^1.91.0"
    contributes = manifest["contributes"]
    commands = {c["command"]: c for c in contributes["commands"]}
    for title, command in PALETTE.items():
        assert commands[command]["title"] == title
        assert commands[command]["category"] == "Tether"
    hidden = {m["command"] for m in contributes["menus"]["commandPalette"] if m["when"] == "false"}
    assert not hidden & set(PALETTE.values())
    settings = contributes["configuration"]["properties"]
    for key in (
        "tether.python",
        "tether.model",
        "tether.teacher",
        "tether.policy.autoThreshold",
        "tether.policy.quietThreshold",
        "tether.reviewOnSave",
        "tether.home",
        "tether.training.maxSteps",
    ):
        prop = settings[key]
        assert prop.get("description") or prop.get("markdownDescription"), key
    assert contributes["viewsContainers"]["activitybar"][0]["title"] == "Tether"
    assert contributes["views"]["tether"][0]["type"] == "webview"
    title_menu = {m["command"]: m["when"] for m in contributes["menus"]["editor/title"]}
    assert "tether-proposal" in title_menu["tether.ui.accept"]
    assert "tether-proposal" in title_menu["tether.ui.reject"]
    assert "tether-proposal" in title_menu["tether.ui.regenerate"]
    assert "tether-proposal" in title_menu["tether.ui.refine"]
    keys = {k["command"] for k in contributes["keybindings"]}
    assert {"tether.ui.accept", "tether.ui.reject"} <= keys
