"""Providers report the answer as it grows to the request's partial-answer sink: the
in-process transformers model token by token, Ollama chunk by chunk (its streaming HTTP
API, served here on loopback: Ollama itself is the edge), recorded answers line by line."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tether.agent.providers import streaming_to
from tether.agent.providers.embedded import EmbeddedProvider
from tether.agent.providers.ollama import OllamaProvider
from tether.agent.providers.replay import ReplayProvider

MESSAGES = [
    {"role": "system", "content": "You improve Python code."},
    {"role": "user", "content": "```python\nif x == None:\n    pass\n```"},
]
PIECES = ["Use `is None`.\n", "```python\n", "if x is None:\n", "    pass\n", "```"]


def _growing(seen: list[str], final: str) -> None:
    assert len(seen) >= 2, seen
    for earlier, later in itertools.pairwise(seen):
        assert later.startswith(earlier), (earlier, later)
    assert seen[-1] == final


async def test_embedded_model_reports_every_token(tiny_model: Any, smol_tokenizer: Any) -> None:
    import torch

    torch.manual_seed(7)  # the sampled tokens are the same every run
    provider = EmbeddedProvider("tiny", loader=lambda: (tiny_model, smol_tokenizer))
    seen: list[str] = []
    # sampled (two candidates): greedy random weights may stop at the first token
    with streaming_to(seen.append):
        gen = await provider.generate(MESSAGES, n=2, max_new_tokens=16)
    _growing([s for s in seen if s], gen.completions[0].rstrip("\ufffd"))
    assert len(seen) <= 16  # once per new token, of the first candidate only
    # no sink: nothing is reported, the answer is the same kind of thing
    assert (await provider.generate(MESSAGES, max_new_tokens=4)).completions
    await provider.aclose()


class _Ollama(BaseHTTPRequestHandler):
    """Ollama's /api/chat: NDJSON chunks when asked to stream, one object otherwise."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        base = {"model": body["model"], "created_at": "2026-01-01T00:00:00Z"}
        if body.get("stream"):
            lines = [
                {**base, "message": {"role": "assistant", "content": p}, "done": False}
                for p in PIECES
            ]
            lines.append(
                {
                    **base,
                    "message": {"role": "assistant", "content": ""},
                    "done": True,
                    "done_reason": "length",
                }
            )
        else:
            message = {"role": "assistant", "content": "".join(PIECES)}
            lines = [{**base, "message": message, "done": True, "done_reason": "stop"}]
        data = "".join(json.dumps(line) + "\n" for line in lines).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def ollama_host() -> Iterator[str]:
    _Ollama.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ollama)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_ollama_streams_the_first_candidate(ollama_host: str) -> None:
    provider = OllamaProvider("qwen2.5-coder", host=ollama_host, timeout=30)
    seen: list[str] = []
    with streaming_to(seen.append):
        gen = await provider.generate(MESSAGES, n=2)
    whole = "".join(PIECES)
    assert seen == ["".join(PIECES[: i + 1]) for i in range(len(PIECES))]
    assert gen.completions == [whole, whole]
    assert gen.finish_reasons == ["length", "stop"]  # the stream's own done reason
    # only the first candidate streams; without a sink nothing does
    assert [r.get("stream") for r in _Ollama.requests] == [True, False]
    await provider.generate(MESSAGES)
    assert _Ollama.requests[-1].get("stream") is False


async def test_replay_reports_line_by_line_and_a_failing_sink_is_ignored(tmp_path: Path) -> None:
    f = tmp_path / "r.jsonl"
    f.write_text(json.dumps({"completion": "".join(PIECES)}) + "\n")
    seen: list[str] = []
    with streaming_to(seen.append):
        gen = await ReplayProvider(f).generate(MESSAGES)
    _growing(seen, gen.completions[0])

    def broken(text: str) -> None:
        raise RuntimeError("the editor went away")

    with streaming_to(broken):
        assert (await ReplayProvider(f).generate(MESSAGES)).completions == ["".join(PIECES)]
