"""`tether serve` as a real uvicorn process on a free loopback port, driven over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tether.core.response_format import render_completion

ORIGINAL = "def add(a, b):\n    return a+b\n"
TYPED = "def add(a: int, b: int) -> int:\n    return a + b\n"
READY = "Uvicorn running on"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    token: str
    token_file: Path
    workspace: Path
    output: list[str] = field(default_factory=list)

    def client(self, token: str | None = "") -> httpx.Client:
        headers = {}
        token = self.token if token == "" else token
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)


def start_server(workspace: Path, *, model: str, extra_toml: str = "") -> Server:
    (workspace / "tether.toml").write_text(f'model = "{model}"\n{extra_toml}')
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tether", "serve", "-w", str(workspace), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    output: list[str] = []
    ready = threading.Event()

    def read() -> None:  # keeps the pipe drained for the life of the process
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if READY in line:
                ready.set()
        ready.set()  # it exited: wake the waiter, which then sees it is not running

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(120) or process.poll() is not None:
        process.kill()
        raise RuntimeError("tether serve did not start:\n" + "".join(output))
    token_line = next(line for line in output if "new token" in line)
    token = token_line.rsplit(": ", 1)[1].strip()
    token_file = Path(token_line.split("kept in ", 1)[1].split(",", 1)[0])
    return Server(process, f"http://127.0.0.1:{port}", token, token_file, workspace, output)


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(10)


@pytest.fixture
def api_workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "calc.py").write_text(ORIGINAL)
    replay = ws / "replay.jsonl"
    replay.write_text(
        json.dumps({"completion": render_completion(TYPED, "python", "Add type hints.")}) + "\n"
    )
    return ws


@pytest.fixture
def server(api_workspace: Path) -> Iterator[Server]:
    s = start_server(api_workspace, model=f"replay:{api_workspace / 'replay.jsonl'}")
    try:
        yield s
    finally:
        stop_server(s)
