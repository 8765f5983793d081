"""Engine discovery: an OpenAI-compatible endpoint on a loopback port is found and its
models listed; a closed port and a non-engine are not. The engine is a stand-in at the
edge (a tiny HTTP server answering GET /v1/models as llama.cpp's server and vLLM do)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from tether.agent.prompting import Message
from tether.agent.providers import make_provider
from tether.config import Settings
from tether.serve.engines import Engine, discover, student_choices

from .conftest import free_port


class _Engine(BaseHTTPRequestHandler):
    #: chat requests received (path, model), to show a student choice reaches the engine
    chats: ClassVar[list[tuple[str, str]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        _Engine.chats.append((self.path, body["model"]))
        answer = "```python\nx = 1\n```"
        out = json.dumps(
            {
                "id": "c1",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
            }
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

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
    assert found[0].student_choices == ["litellm:hosted_vllm/smollm2-tether"]
    [choice] = found[0].choices()
    assert choice.env == {"HOSTED_VLLM_API_BASE": f"http://127.0.0.1:{engine_port}/v1"}


async def test_an_engine_choice_is_a_student_the_model_setting_accepts(
    engine_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The offered value passes the model setting's validation, and Tether's own provider
    for it (litellm's OpenAI-compatible one, pointed at the engine by the offered
    environment) sends the chat to that engine."""
    [engine] = await discover([("llamacpp", engine_port)], timeout=2.0)
    [choice] = engine.choices()
    for key, value in choice.env.items():
        monkeypatch.setenv(key, value)
    settings = Settings(model=choice.model)
    provider = make_provider(settings.model, settings)
    _Engine.chats.clear()
    generation = await provider.generate([Message(role="user", content="x=1")], max_new_tokens=16)
    assert _Engine.chats == [("/v1/chat/completions", "smollm2-tether")]
    assert generation.completions == ["```python\nx = 1\n```"]


def test_student_choices_put_the_published_agent_first() -> None:
    ollama = Engine(
        kind="ollama", url="http://127.0.0.1:11434", models=["qwen2.5-coder:7b", "tether-v2:latest"]
    )
    vllm = Engine(kind="vllm", url="http://127.0.0.1:8000", models=["coder"])
    choices = student_choices([vllm, ollama], current="embedded:smollm2")
    assert [c.model for c in choices] == [
        "embedded:smollm2",
        "ollama:tether-v2:latest",
        "litellm:hosted_vllm/coder",
        "ollama:qwen2.5-coder:7b",
    ]
    assert [c.published for c in choices] == [False, True, False, False]
    for c in choices:
        Settings(model=c.model)  # every offer is a value the setting accepts
    custom = student_choices([], current="litellm:anthropic/claude-sonnet-4")
    assert [c.model for c in custom] == ["litellm:anthropic/claude-sonnet-4", "embedded:smollm2"]
