"""End to end in the real VS Code workbench: code-server 4.100.3 with the built .vsix.

One code-server serves the whole module (starting it is the slow part); the tests run in
order through a user's session: ask for a suggestion and accept it in the diff, reject
another with a reason, train, then read the profile and the history in the side panel.
Between steps the real SQLite store and the real file on disk are checked from here.
The model is `replay:FILE` (recorded completions), so the agent's answers are fixed;
training is real (SmolLM2 with LoRA, one step).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from tether.core.types import Actor, Outcome
from tether.decisions import DecisionStore
from tether.paths import WorkspacePaths

from .harness import (
    CODE_SERVER,
    REPO,
    CodeServer,
    Driver,
    build_vsix,
    copy_examples,
    free_port,
    python_for_server,
    run,
    setup,
)
from .seed import seed_decisions

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

#: Two hunks: `is None` (line 16) and an f-string (line 18); line 17 stays.
DESCRIBE_IMPROVED = (
    "    def describe(self):\n"
    "        if self.location is None:\n"
    '            return "%s x%d (unplaced)" % (self.name, self.quantity)\n'
    '        return f"{self.name} x{self.quantity} at {self.location}"\n'
)
#: What the file holds after accepting hunk 1 and rejecting hunk 2.
DESCRIBE_HUNK_1 = (
    "    def describe(self):\n"
    "        if self.location is None:\n"
    '            return "%s x%d (unplaced)" % (self.name, self.quantity)\n'
    '        return "%s x%d at %s" % (self.name, self.quantity, self.location)\n'
)
TOTAL_DOCUMENTED = (
    "    def total_value(self):\n"
    '        """The stock\'s worth: quantity times unit price."""\n'
    "        return self.quantity * self.price\n"
)
#: Deletes a line of code: a risky change, which the policy asks about in a modal.
LOW_STOCK_RISKY = (
    "    def low_stock(self, threshold=5):\n"
    "        result = []\n"
    "        for name in self.items:\n"
    "            if self.items[name].quantity < threshold:\n"
    "                result.append(name)\n"
    "        return result\n"
)
VALUE_DOCUMENTED = (
    "    def value(self):\n"
    '        """Total worth of the stock."""\n'
    "        total = 0\n"
    "        for name in self.items:\n"
    "            total = total + self.items[name].total_value()\n"
    "        return total\n"
)


def answer(task: str, rationale: str, code: str) -> dict[str, str]:
    """One recorded model answer: the rationale, then the code in one fenced block."""
    return {"task": task, "completion": f"{rationale}\n```python\n{code}```"}


#: The model's answers, in the order the tests ask (per task).
REPLAY = [
    answer("improve", "Use `is None` and f-strings.", DESCRIBE_IMPROVED),
    answer("improve", "The sort is not needed.", LOW_STOCK_RISKY),
    answer("document", "Say what total_value returns.", TOTAL_DOCUMENTED),
    answer("document", "Document value().", VALUE_DOCUMENTED),
]
REASON = "A docstring this obvious is noise"


@dataclass
class Session:
    driver: Driver
    workspace: Path
    db: Path
    out: Path
    server: CodeServer


def read_store(db: Path) -> tuple[list, dict]:
    """All decision rows and proposals, read from the real store file."""

    async def go() -> tuple[list, dict]:
        store = await DecisionStore.open(db, create=False)
        try:
            rows = await store.decisions()
            proposals = {p.id: p for p in await store.proposals()}
            return rows, proposals
        finally:
            await store.close()

    return asyncio.run(go())


def tether_servers(server: CodeServer) -> list[psutil.Process]:
    """The `python -m tether lsp` processes code-server's extension host started."""
    found = []
    for child in psutil.Process(server.proc.pid).children(recursive=True):
        try:
            cmd = child.cmdline()
        except psutil.Error:
            continue
        if "tether" in cmd and "lsp" in cmd:
            found.append(child)
    return found


def wait_for_new_server(server: CodeServer, old: set[int], timeout: float = 60) -> psutil.Process:
    """Until the extension has started a server that is not one of `old`."""
    deadline = time.monotonic() + timeout
    while True:
        fresh = [p for p in tether_servers(server) if p.pid not in old]
        if fresh:
            return fresh[0]
        assert time.monotonic() < deadline, "the extension did not restart the server"
        time.sleep(0.1)  # poll interval of the condition above (a new server process)


def adapters(db: Path) -> list:
    async def go() -> list:
        store = await DecisionStore.open(db, create=False)
        try:
            return await store.adapters()
        finally:
            await store.close()

    return asyncio.run(go())


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    setup(e2e=True)
    vsix = build_vsix()
    root = tmp_path_factory.mktemp("vscode-e2e")
    out = root / "out"
    out.mkdir()
    workspace = copy_examples(root / "examples")
    # small training runs: batches of two, one optimizer step (the step cap comes from
    # the VS Code setting below, the rest from the workspace's tether.toml)
    (workspace / "tether.toml").write_text(
        "[training]\nbatch_size = 2\nmax_length = 256\n", encoding="utf-8"
    )
    home = root / "tether-home"
    db = WorkspacePaths(workspace, home).db
    asyncio.run(seed_decisions(db, workspace))
    replay = root / "replay.jsonl"
    replay.write_text("".join(json.dumps(e) + "\n" for e in REPLAY), encoding="utf-8")

    user_data = root / "user-data"
    (user_data / "User").mkdir(parents=True)
    (user_data / "User" / "settings.json").write_text(
        json.dumps(
            {
                "tether.python": python_for_server(),
                "tether.training.maxSteps": 1,
                "workbench.startupEditor": "none",
                "workbench.tips.enabled": False,
                "security.workspace.trust.enabled": False,
                "extensions.autoCheckUpdates": False,
                "extensions.autoUpdate": False,
                "telemetry.telemetryLevel": "off",
                "update.mode": "none",
                "files.hotExit": "off",
                "files.autoSave": "off",  # code-server (web) saves after a delay by default
                "chat.commandCenter.enabled": False,
                "window.commandCenter": False,
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    extensions = root / "extensions"
    env = {
        "XDG_CONFIG_HOME": str(root / "xdg"),
        "TETHER_HOME": str(home),
        "TETHER_MODEL": f"replay:{replay}",
        "TETHER_CANDIDATES": "1",  # one recorded answer per request
        "TETHER_MODEL_CACHE": str(REPO / ".tether-test" / "models"),
    }
    run(
        [
            str(CODE_SERVER),
            "--user-data-dir",
            str(user_data),
            "--extensions-dir",
            str(extensions),
            "--install-extension",
            str(vsix),
        ],
        env=env,
    )
    server = CodeServer(
        port=free_port(),
        workspace=workspace,
        user_data=user_data,
        extensions=extensions,
        env=env,
        log=out / "code-server.log",
    )
    driver: Driver | None = None
    try:
        server.wait_ready()
        driver = Driver(out, env={})
        opened = driver.step("open", url=server.url, out=str(out))
        assert opened["activityBarItem"], "no Tether view container in the activity bar"
        yield Session(driver=driver, workspace=workspace, db=db, out=out, server=server)
    finally:
        if driver is not None:
            driver.close()
        server.stop()


def test_accept_one_hunk_in_diff_changes_the_file_and_records_it(session: Session) -> None:
    result = session.driver.step(
        "acceptInDiff",
        file="src/inventory.py",
        first=15,
        last=18,
        task="Improve",
        reject=["Reject hunk 2 of 2"],
        accept=["Accept hunk 1 of 2"],
        expect="if self.location is None:",
        hunkReason="keep the %-formatting",
    )
    assert "Reject hunk 2 of 2" in (result["reasonPrompt"] or ""), result["reasonPrompt"]
    assert result["hasReject"], "the diff's editor title has no Reject"
    for lens in ("Accept hunk 1 of 2", "Reject hunk 1 of 2", "Accept hunk 2 of 2"):
        assert any(lens in t for t in result["lenses"]), result["lenses"]
    assert any("hunk 2 of 2 rejected" in t for t in result["afterReject"]), result["afterReject"]

    text = (session.workspace / "src" / "inventory.py").read_text(encoding="utf-8")
    assert DESCRIBE_HUNK_1 in text

    rows, proposals = read_store(session.db)
    accepted = [
        r for r in rows if r.outcome == Outcome.PARTLY_ACCEPTED and r.path == "src/inventory.py"
    ]
    assert len(accepted) == 1  # its own outcome, with the rejected hunk's reason
    assert accepted[0].actor == Actor.USER
    assert accepted[0].hunks == [0]
    assert accepted[0].reason == "hunk 2: keep the %-formatting"
    assert accepted[0].data == {"hunks_total": 2}
    proposal = proposals[accepted[0].proposal_id]
    assert proposal.task == "improve"
    assert len(proposal.hunks) == 2


def test_reject_with_reason_records_it_and_leaves_the_file(session: Session) -> None:
    before = (session.workspace / "src" / "inventory.py").read_text(encoding="utf-8")
    result = session.driver.step(
        "rejectWithReason",
        file="src/inventory.py",
        first=12,
        last=13,
        task="Document",
        reason=REASON,
    )
    assert result["pendingDuring"] == 1, "the pending suggestion was not counted"
    assert result["rejectLabel"].startswith("Reject Suggestion (Ctrl+Alt+N)"), result["rejectLabel"]
    assert "Why?" in result["prompt"]
    assert (session.workspace / "src" / "inventory.py").read_text(encoding="utf-8") == before

    rows, _ = read_store(session.db)
    rejected = [r for r in rows if r.outcome == Outcome.REJECTED and r.path == "src/inventory.py"]
    assert len(rejected) == 1
    assert rejected[0].reason == REASON
    assert rejected[0].actor == Actor.USER


def test_code_action_then_quick_fix_reject_with_reason(session: Session) -> None:
    result = session.driver.step(
        "quickFixReject",
        file="src/inventory.py",
        first=49,
        last=53,
        task="Document",
        reason="Not worth a docstring",
    )
    titles = " | ".join(result["fixes"])
    for fix in ("Accept", "Reject", "Reject with reason", "Show diff"):
        assert f"Tether: {fix}" in titles, titles
    rows, _ = read_store(session.db)
    assert any(r.outcome == Outcome.REJECTED and r.reason == "Not worth a docstring" for r in rows)


def test_risky_suggestion_asks_in_a_modal(session: Session) -> None:
    before = (session.workspace / "src" / "inventory.py").read_text(encoding="utf-8")
    result = session.driver.step(
        "riskyRejectInModal", file="src/inventory.py", first=41, last=47, task="Improve"
    )
    assert result["modal"], "the approval prompt was not modal"
    assert "risky" in result["message"] and "deletes_code" in result["message"]
    assert {"Approve", "Reject", "Always ask for this kind", "Explain"} <= set(result["buttons"])
    assert (session.workspace / "src" / "inventory.py").read_text(encoding="utf-8") == before

    rows, proposals = read_store(session.db)
    risky = [p for p in proposals.values() if "deletes_code" in p.risk]
    assert len(risky) == 1
    verdicts = [r for r in rows if r.proposal_id == risky[0].id and r.outcome == Outcome.REJECTED]
    assert len(verdicts) == 1 and verdicts[0].actor == Actor.USER


def test_server_restarts_after_a_crash(session: Session) -> None:
    old = tether_servers(session.server)
    assert len(old) == 1, old
    before, _ = read_store(session.db)
    old[0].kill()
    old[0].wait(timeout=10)
    fresh = wait_for_new_server(session.server, {old[0].pid})
    assert fresh.pid != old[0].pid
    # the restarted server answers: Verify Audit Log reads the whole chain (its crash
    # recovery may append "expired" rows for proposals the killed server left pending,
    # before or after the verify)
    result = session.driver.step("verify")
    after, _ = read_store(session.db)
    found = re.search(r"Audit log OK: (\d+) decisions", result["text"])
    assert found is not None, result
    assert len(before) <= int(found.group(1)) <= len(after), (result, len(before), len(after))


def test_open_agent_spec_and_pin_a_class(session: Session) -> None:
    result = session.driver.step("specAndPin", mode="Always ask")
    assert "always ask" in result["toast"]
    rows, _ = read_store(session.db)
    pins = [r for r in rows if r.outcome == Outcome.PINNED]
    assert len(pins) == 1 and pins[0].data == {"mode": "always_ask"}
    assert pins[0].class_key and pins[0].class_key in result["picked"]


def test_train_now_shows_progress_and_adds_an_adapter(session: Session) -> None:
    assert adapters(session.db) == []
    result = session.driver.step("trainNow")
    assert result["progress"], "no progress bar in the training notification"
    assert result["cancel"], "the training notification has no Cancel"
    assert "promoted" in result["done"] or "refused" in result["done"], result["done"]

    rows = adapters(session.db)
    assert [a.version for a in rows] == ["v1"]
    panel = session.driver.step("profile")
    assert any(row.startswith("v1") for row in panel["adapters"]), panel["adapters"]
    # per class: policy and one sentence; the numbers (mean, interval, n) on hover
    assert all(re.search(r"\d+% \(\d+%–\d+%\)", t) for t in panel["classTitles"]), panel
    assert all(re.match(r"(ask|auto|quiet|pinned)", row) for row in panel["classes"]), panel
    assert any("Pinned: always ask." in row for row in panel["classes"]), panel["classes"]
    assert not any("null" in row for row in panel["classes"] + panel["adapters"]), panel


def test_history_panel_lists_the_decisions_and_opens_a_diff(session: Session) -> None:
    result = session.driver.step("history", open="partly_accepted")
    by_outcome: dict[str, list[dict]] = {}
    for row in result["rows"]:  # outcome, file:line, outcome in words, one-line reason
        by_outcome.setdefault(row["outcome"], []).append(row)
    mine = [r for r in by_outcome.get("partly_accepted", []) if r["where"] == "inventory.py:15"]
    assert mine and mine[0]["what"] == "partly accepted: hunk 1 of 2", mine
    rejected = [r for r in by_outcome.get("rejected", []) if r["where"].startswith("inventory.py")]
    assert any(r["why"] == REASON for r in rejected), rejected
    assert any(r["outcome"].startswith("adapter") for r in result["rows"]), "no adapter row"
    assert result["rejected"] >= 4  # the three seeded and ours, after filtering
    assert "Decided by" in (result["details"] or "") and "user" in result["details"]
    assert "partly accepted by user" in (result["opened"] or "")
