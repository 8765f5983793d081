"""The plugin without a server: commands, setup() options, and the :help file."""

from __future__ import annotations

import shutil
import sys
import venv
from pathlib import Path

from nvim_harness import REPO, Nvim, Project


def _python_without_tether(where: Path) -> str:
    """A fresh virtualenv's interpreter: Python without the tether package."""
    venv.create(where, with_pip=False, symlinks=True)
    return str(where / "bin" / "python")


def test_commands_setup_and_help(nvim: Nvim, tmp_path: Path) -> None:
    doc_copy = tmp_path / "doc-copy"  # :helptags writes a tags file; keep it out of the repo
    shutil.copytree(REPO / "client-nvim" / "doc", doc_copy / "doc")

    bare_python = _python_without_tether(tmp_path / "bare-venv")
    run = nvim.run("plugin_basics.lua", str(doc_copy), bare_python)

    assert set(run["commands_before_setup"]) >= {
        "TetherTrain",
        "TetherHistory",
        "TetherProfile",
        "TetherAccept",
        "TetherReject",
        "TetherPending",
        "TetherVerify",
    }
    assert run["typo_error"] == 'tether: unknown option "pyhton"'
    assert "history.diff" in run["bad_value_error"]
    config = run["config"]
    assert config["cmd"] == [sys.executable, "-m", "tether", "lsp"]
    assert config["filetypes"] == ["python"]  # a second setup() replaces, never merges lists
    assert config["init_options"] == {"training": {"max_steps": 2}}
    assert config["settings"] == {"tether": {"training": {"max_steps": 2}}}
    assert config["enabled"] is True
    assert config["root_dir_is_function"] is True
    assert set(config["handlers"]) == {"tether/decisionRecorded", "tether/trainingStatus"}
    assert run["statusline_without_client"] == ""
    assert "language server is not running" in run["history_without_server"]

    opened = run["help_opened"]
    assert opened["tether"].startswith("tether.txt:") and "*tether*" in opened["tether"]
    assert "*:TetherTrain*" in opened[":TetherTrain"]
    assert "*tether.setup()*" in opened["tether.setup()"]
    assert "*tether-health*" in opened["tether-health"]
    assert run["links_checked"] > 20
    assert run["broken_links"] == []

    missing = "\n".join(run["health_missing_python"])
    assert "ERROR interpreter /nonexistent/bin/python" in missing
    assert "is not executable" in missing
    no_package = "\n".join(run["health_no_package"])
    assert f"OK interpreter {bare_python}" in no_package
    assert "ERROR the tether package is not importable: ModuleNotFoundError" in no_package
    replay = "\n".join(run["health_missing_replay"])
    assert (
        "ERROR model replay:/nonexistent.jsonl: replay file /nonexistent.jsonl not found" in replay
    )
    assert "OK server found" in replay


def test_legacy_start_path_attaches(nvim: Nvim, project: Project) -> None:
    run = nvim.run("legacy_start.lua", str(project.file))

    legacy = run["legacy"]
    assert legacy["clients"] == 1  # one server for the workspace, reused by both files
    assert legacy["root_dir"] == str(project.root)  # found by the tether.toml root marker
    assert legacy["both_attached"] is True
    assert legacy["text_attached"] is False  # filetypes = {'python'}
    assert legacy["cmd"] == [sys.executable, "-m", "tether", "lsp"]
