"""Engine discovery: an OpenAI-compatible endpoint on a loopback port is found and its
models listed; a closed port and a non-engine are not. The engine is a stand-in at the
edge (a tiny HTTP server answering GET /v1/models as llama.cpp's server and vLLM do)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tether.serve.engines import discover

from .conftest import free_port


class _Engine(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/v1/models":
            body = json.dumps({"object": "list", "data": [{"id": "smollm2-tether"}]}).encode()
            self.send_response(200)
        else:
            body = b"not here"
            self.send_response(404)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _NotAnEngine(_Engine):
    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("content-length", "0")
        self.end_headers()


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def engine_port() -> Iterator[int]:
    yield from _serve(_Engine)


@pytest.fixture
def other_port() -> Iterator[int]:
    yield from _serve(_NotAnEngine)


async def test_discover_lists_engines_on_loopback(engine_port: int, other_port: int) -> None:
    closed = free_port()
    found = await discover(
        [("vllm", engine_port), ("llamacpp", closed), ("ollama", other_port)], timeout=2.0
    )
    assert [(e.kind, e.url, e.models) for e in found] == [
        ("vllm", f"http://127.0.0.1:{engine_port}", ["smollm2-tether"])
    ]
    assert found[0].student_choices == ["vllm:smollm2-tether"]
