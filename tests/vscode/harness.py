"""Shared plumbing for the VS Code tests: the project's setup script, the build, code-server.

Everything the tests need is installed by `client-vscode/scripts/setup-e2e.sh` (idempotent,
quick once done; `make test` runs it), never by the tests themselves.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CLIENT = REPO / "client-vscode"
E2E = CLIENT / "e2e"
CODE_SERVER = E2E / "node_modules" / ".bin" / "code-server"
VERSION = json.loads((CLIENT / "package.json").read_text(encoding="utf-8"))["version"]
VSIX = CLIENT / f"tether-{VERSION}.vsix"


def copy_examples(dest: Path) -> Path:
    """The example workspace for an editor test, with ruff off in its agent spec.

    These tests drive the editor's flows with recorded model answers; ruff's own fixes
    (tested in tests/agent and tests/lsp/test_lsp_tools.py) would replace those answers.
    """
    shutil.copytree(REPO / "examples", dest)
    spec = dest / ".tether" / "agent.md"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("ruff: true", "ruff: false", 1), encoding="utf-8")
    return dest


def run(
    cmd: list[str],
    *,
    cwd: Path = REPO,
    timeout: float = 600,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}"
            f"\n--- stderr\n{proc.stderr[-4000:]}"
        )
    return proc


def setup(e2e: bool) -> None:
    """Check that the machine is set up; tests never install anything.

    `make test` (or `make vscode-setup` / `make vscode-e2e-setup`) runs the project's own
    installer, client-vscode/scripts/setup-e2e.sh: the npm trees, and for e2e Debian's
    chromium and ripgrep and code-server. What it left is checked here, so a missing or
    stale install fails with what to run instead of a confusing error later."""
    target = "vscode-e2e-setup" if e2e else "vscode-setup"
    trees = [CLIENT, E2E] if e2e else [CLIENT]
    missing = [f"{tree.relative_to(REPO)}/node_modules" for tree in trees if not _installed(tree)]
    if e2e:
        missing += [tool for tool in ("chromium", "rg") if shutil.which(tool) is None]
        if not CODE_SERVER.exists():
            missing.append(str(CODE_SERVER.relative_to(REPO)))
    if missing:
        raise AssertionError(
            f"the VS Code test set-up is missing or out of date ({', '.join(missing)}); "
            f"run `make {target}` first (it installs them)"
        )


def _installed(tree: Path) -> bool:
    """node_modules installed from this very package-lock.json (the setup script's stamp)."""
    stamp = tree / "node_modules" / ".tether-lock-hash"
    if not stamp.is_file():
        return False
    want = hashlib.sha256((tree / "package-lock.json").read_bytes()).hexdigest()
    return stamp.read_text(encoding="utf-8").strip() == want


@functools.cache
def build_vsix() -> Path:
    """`make vsix`: the same build users run (once per test session)."""
    run(["make", "--no-print-directory", "vsix"])
    assert VSIX.is_file(), f"make vsix did not produce {VSIX}"
    return VSIX


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CodeServer:
    """code-server on 127.0.0.1 only, in its own process group; ready once it says so."""

    def __init__(
        self,
        *,
        port: int,
        workspace: Path,
        user_data: Path,
        extensions: Path,
        env: dict[str, str],
        log: Path,
    ) -> None:
        self.url = f"http://127.0.0.1:{port}/?folder={workspace}"
        self.log_path = log
        self.ready = threading.Event()
        self.proc = subprocess.Popen(
            [
                str(CODE_SERVER),
                "--auth",
                "none",
                "--bind-addr",
                f"127.0.0.1:{port}",
                "--disable-telemetry",
                "--disable-update-check",
                "--disable-workspace-trust",
                "--disable-getting-started-override",
                "--user-data-dir",
                str(user_data),
                "--extensions-dir",
                str(extensions),
                str(workspace),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **env},
            start_new_session=True,
        )
        threading.Thread(target=self._follow, daemon=True).start()

    def _follow(self) -> None:
        assert self.proc.stdout is not None
        with self.log_path.open("w", encoding="utf-8") as log:
            for line in self.proc.stdout:
                log.write(line)
                log.flush()
                if "HTTP server listening on" in line:
                    self.ready.set()
        self.ready.set()  # it exited: wake the waiter, who checks

    def wait_ready(self, timeout: float = 90) -> None:
        if not self.ready.wait(timeout) or self.proc.poll() is not None:
            raise AssertionError(
                f"code-server did not start: {self.log_path.read_text(encoding='utf-8')[-3000:]}"
            )

    def stop(self) -> None:
        """Ends code-server and all it started (extension host, the Tether server)."""
        pgid = self.proc.pid  # its own session: the group holds everything it started
        if self.proc.poll() is None:
            try:
                os.killpg(pgid, signal.SIGTERM)
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            except ProcessLookupError:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)  # whatever outlived it (a training worker)
        if self.proc.poll() is None:
            self.proc.wait()


class Driver:
    """The Playwright driver (client-vscode/e2e/driver.js), one JSON line per step."""

    def __init__(self, out: Path, env: dict[str, str]) -> None:
        self.out = out
        self.log = (out / "driver.log").open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            ["node", str(E2E / "driver.js")],
            cwd=E2E,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env={**os.environ, "TETHER_E2E_OUT": str(out), **env},
        )

    def step(self, name: str, **args: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"step": name, "args": args}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"the driver died during {name}; see {self.out / 'driver.log'}")
        reply = json.loads(line)
        if not reply.get("ok"):
            raise AssertionError(
                f"step {name} failed: {reply.get('error')}\nscreenshot: {reply.get('screenshot')}"
            )
        return dict(reply["result"])

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                self.step("close")
                assert self.proc.stdin is not None
                self.proc.stdin.close()  # ends the driver's read loop
                self.proc.wait(timeout=30)
        except Exception:
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.log.close()


def python_for_server() -> str:
    """The interpreter that has Tether installed (the repository's virtualenv)."""
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def which_node() -> str:
    node = shutil.which("node")
    assert node, "node is not installed"
    return node
