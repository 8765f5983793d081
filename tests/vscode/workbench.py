"""One VS Code session of its own per test: a copy of examples/, its own data root, replay
file, user settings, code-server and browser, all stopped when the test ends."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tether.paths import WorkspacePaths

from .harness import (
    CODE_SERVER,
    REPO,
    CodeServer,
    Driver,
    copy_examples,
    free_port,
    python_for_server,
    run,
)

USER_SETTINGS = {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "security.workspace.trust.enabled": False,
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "files.hotExit": "off",
    "files.autoSave": "off",
    "chat.commandCenter.enabled": False,
    "window.commandCenter": False,
}


@dataclass
class Workbench:
    driver: Driver
    workspace: Path
    db: Path
    out: Path
    root: Path
    settings: Path


def answer(task: str, path: str, rationale: str, code: str | None) -> dict[str, str]:
    """A recorded model answer; `code=None` answers in prose only (no code block)."""
    text = rationale if code is None else f"{rationale}\n```python\n{code}```"
    return {"task": task, "path": path, "completion": text}


@contextlib.contextmanager
def workbench(
    root: Path,
    vsix: Path,
    replay: list[dict[str, Any]],
    settings: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Workbench]:
    """`env`: more of the server's environment (e.g. TETHER_OLLAMA_HOST)."""
    out = root / "out"
    out.mkdir(parents=True)
    workspace = copy_examples(root / "examples")
    home = root / "tether-home"
    replay_file = root / "replay.jsonl"
    replay_file.write_text("".join(json.dumps(e) + "\n" for e in replay), encoding="utf-8")
    user = root / "user-data" / "User"
    user.mkdir(parents=True)
    settings_file = user / "settings.json"
    settings_file.write_text(
        json.dumps(
            {
                **USER_SETTINGS,
                "tether.python": python_for_server(),
                "tether.model": f"replay:{replay_file}",
                **(settings or {}),
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    # code-server is VS Code Remote: once the extension's settings are known, machine-scoped
    # ones (tether.python) apply from the remote's Machine settings only, not from User ones
    machine = root / "user-data" / "Machine"
    machine.mkdir(parents=True)
    (machine / "settings.json").write_text(
        json.dumps({"tether.python": python_for_server()}, indent=2), encoding="utf-8"
    )
    extensions = root / "extensions"
    extra_env = env or {}
    env = {
        **extra_env,
        "XDG_CONFIG_HOME": str(root / "xdg"),
        "TETHER_HOME": str(home),
        "TETHER_MODEL_CACHE": str(REPO / ".tether-test" / "models"),
        "TETHER_CANDIDATES": "1",  # one recorded answer per request
    }
    run(
        [
            str(CODE_SERVER),
            "--user-data-dir",
            str(root / "user-data"),
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
        user_data=root / "user-data",
        extensions=extensions,
        env=env,
        log=out / "code-server.log",
    )
    driver: Driver | None = None
    try:
        server.wait_ready()
        driver = Driver(out, env={})
        driver.step("open", url=server.url, out=str(out))
        yield Workbench(
            driver=driver,
            workspace=workspace,
            db=WorkspacePaths(workspace, home).db,
            out=out,
            root=root,
            settings=settings_file,
        )
    finally:
        if driver is not None:
            driver.close()
        server.stop()
