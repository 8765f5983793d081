"""The model's answer streams into VS Code (issue 18): while the model writes, the request's
progress notification shows the line being written.

Real code-server with the built .vsix; the student is `ollama:NAME`, served on loopback by
a stand-in for Ollama's streaming chat API (Ollama is the edge). It sends the answer's first
lines, then holds the rest until the test has seen them in the notification: the stream is
paused on a condition, so the check does not depend on how fast anything runs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from .harness import build_vsix, setup
from .test_vscode_flows import FILE, FSTRING_1, FSTRING_2, HEAD, IS_NONE
from .workbench import answer, workbench

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

BEFORE = ["f-strings.\n", "```python\n", HEAD]  # sent at once
AFTER = [IS_NONE, FSTRING_1, FSTRING_2, "```"]  # sent once the test saw the first part


class _GatedOllama(BaseHTTPRequestHandler):
    """POST /api/chat with stream=true: NDJSON pieces, paused at `gate` after BEFORE."""

    gate: ClassVar[threading.Event] = threading.Event()
    chats: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/api/chat":
            self.send_error(404)
            return
        type(self).chats.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.end_headers()  # HTTP/1.0: the body ends when the connection closes
        base = {"model": body["model"], "created_at": "2026-01-01T00:00:00Z"}
        pieces = BEFORE + AFTER if body.get("stream") else ["".join(BEFORE + AFTER)]
        for i, piece in enumerate(pieces):
            if body.get("stream") and i == len(BEFORE):
                type(self).gate.wait(timeout=300)
            line = {**base, "message": {"role": "assistant", "content": piece}, "done": False}
            self.wfile.write((json.dumps(line) + "\n").encode())
            self.wfile.flush()
        end = {**base, "message": {"role": "assistant", "content": ""}, "done": True}
        self.wfile.write((json.dumps({**end, "done_reason": "stop"}) + "\n").encode())

    def do_GET(self) -> None:
        self.send_error(404)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def ollama() -> Iterator[str]:
    _GatedOllama.gate = threading.Event()
    _GatedOllama.chats = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GatedOllama)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        _GatedOllama.gate.set()
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def vsix() -> Path:
    setup(e2e=True)
    return build_vsix()


def test_the_answer_grows_in_the_progress_notification(
    vsix: Path, tmp_path: Path, ollama: str
) -> None:
    unused = [answer("improve", FILE, "unused", None)]
    settings = {"tether.model": "ollama:stand-in-coder"}
    with workbench(
        tmp_path, vsix, unused, settings=settings, env={"TETHER_OLLAMA_HOST": ollama}
    ) as wb:
        d = wb.driver
        d.step("ask", file=FILE, first=15, last=18, words="use f-strings")
        # the model is mid-answer: its notification shows the line it is writing
        shown = d.step("notificationShows", hasText="line 2: def describe(self):")
        assert shown["text"].startswith("Tether: use f-strings"), shown
        assert "```" not in shown["text"], shown  # a code fence is no line of the answer
        _GatedOllama.gate.set()
        # the whole answer arrived, was verified, and opens as the suggestion's diff
        d.step("diffShown", expect='return f"{self.name} x{self.quantity} at', shot="diff.png")
        [chat] = _GatedOllama.chats
        assert chat["stream"] is True and chat["model"] == "stand-in-coder"
