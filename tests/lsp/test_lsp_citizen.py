"""The server ends with its editor (issue 21): real `tether lsp` processes over real pipes.

Each test does what a crashed or killed editor does (close stdin, vanish) or what the
specification asks (`shutdown` then `exit`), and checks that the server process, and
every process it started, is gone within the issue's bound of 2 seconds.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tether.core.types import Range

from .conftest import IMPROVE, SOURCE
from .wire import ENDS_WITHIN, Wire, children, frame, gone_within

pytestmark = pytest.mark.timeout(300)

GREET = Range.of(0, 0, 3, 18).model_dump()


@pytest.fixture
def replay(tmp_path: Path) -> dict[str, str]:
    file = tmp_path / "replay.jsonl"
    file.write_text(json.dumps(IMPROVE) + "\n", encoding="utf-8")
    return {"TETHER_MODEL": f"replay:{file}", "TETHER_TRAINING__AUTO_SCHEDULE": "false"}


async def _started(ws: Path, env: dict[str, str]) -> Wire:
    wire = await Wire.start(ws, env)
    await wire.initialize()
    await wire.poll_status(lambda s: s["workspaces"][0]["db"], "the store to open")
    return wire


async def test_end_of_input_while_idle_ends_the_server(ws: Path, replay: dict[str, str]) -> None:
    wire = await _started(ws, replay)
    wire.open("app.py", SOURCE)
    status = await wire.status()
    assert status["memory"]["rssBytes"] > 0
    since = wire.close_stdin()
    code, _ = await wire.exit_within(ENDS_WITHIN, since)
    assert code == 1  # no shutdown came first


async def test_shutdown_then_exit_is_0_and_exit_alone_is_1(
    ws: Path, replay: dict[str, str]
) -> None:
    polite = await _started(ws, replay)
    assert (await polite.request("shutdown"))["result"] is None
    polite.notify("exit", None)
    assert await polite.proc.wait() == 0

    abrupt = await _started(ws, replay)
    abrupt.notify("exit", None)
    assert await abrupt.proc.wait() == 1


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
async def test_a_signal_ends_the_server_the_same_way(
    ws: Path, replay: dict[str, str], sig: signal.Signals
) -> None:
    """SIGTERM (editors, systemd) and SIGHUP (a closed SSH session or terminal)."""
    wire = await _started(ws, replay)
    wire.proc.send_signal(sig)
    code, _ = await wire.exit_within(ENDS_WITHIN, time.monotonic())
    assert code == 1
    assert (await wire.status_file_count(ws)) == 0  # its record in servers/ is gone


async def test_closed_tcp_connection_ends_the_server(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tether",
        "lsp",
        "--tcp",
        "127.0.0.1:0",
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stderr is not None
        async with asyncio.timeout(60):
            while not (
                match := re.search(
                    rb"Serving on \('127.0.0.1', (\d+)\)", await proc.stderr.readline()
                )
            ):
                pass
        reader, writer = await asyncio.open_connection("127.0.0.1", int(match.group(1)))
        writer.write(
            frame(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}},
                }
            )
        )
        await writer.drain()
        assert await reader.readline()  # the reply has begun: the connection is live
        writer.close()
        since = time.monotonic()
        async with asyncio.timeout(ENDS_WITHIN):
            code = await proc.wait()
        assert code == 1, f"{time.monotonic() - since:.2f} s"
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_editor_process_gone_ends_the_server(ws: Path, replay: dict[str, str]) -> None:
    """LSP's processId: the server watches the editor's process, not only its stdin."""
    editor = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    wire = await Wire.start(ws, replay)
    try:
        await wire.initialize(process_id=editor.pid)
        assert (await wire.status())["memory"]["clientPid"] == editor.pid
        assert editor.stdin is not None
        editor.stdin.close()  # the "editor" ends; the server's own stdin stays open
        editor.wait()
        code, _ = await wire.exit_within(ENDS_WITHIN, time.monotonic())
        assert code == 1
    finally:
        editor.kill()
        await wire.kill()


async def test_a_process_id_never_seen_is_not_watched(ws: Path, replay: dict[str, str]) -> None:
    """An editor in another PID namespace (a container) sends a pid that is not ours to
    see: the server keeps serving instead of exiting at once."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    wire = await Wire.start(ws, replay)
    try:
        await wire.initialize(process_id=gone.pid)
        status = await wire.status()
        assert status["memory"]["clientPid"] is None and wire.proc.returncode is None
    finally:
        await wire.kill()


async def test_malformed_json_gets_a_parse_error_and_the_server_goes_on(
    ws: Path, replay: dict[str, str]
) -> None:
    wire = await _started(ws, replay)
    try:
        wire.send(b"Content-Length: 9\r\n\r\n{invalid}")
        reply = await wire.until(lambda: wire.unanswered, "the parse error")
        error = reply[0]
        assert error["id"] is None and error["error"]["code"] == -32700
        assert "not valid JSON" in error["error"]["message"]

        wire.unanswered.clear()
        wire.send(b"Content-Length: 6\r\n\r\n[1, 2]")  # JSON, but no JSON-RPC message
        reply = await wire.until(lambda: wire.unanswered, "the invalid-request error")
        assert reply[0]["id"] is None and reply[0]["error"]["code"] == -32600

        assert (await wire.status())["pid"] == wire.pid  # still serving
    finally:
        await wire.kill()


async def test_two_servers_on_one_workspace_report_each_other(
    ws: Path, replay: dict[str, str], tether_home: Path
) -> None:
    one = await _started(ws, replay)
    two = await _started(ws, replay)
    try:
        seen = await one.status()
        others = seen["memory"]["otherServers"]
        assert [o["pid"] for o in others] == [two.pid] and others[0]["rssBytes"] > 0

        out = subprocess.run(
            [sys.executable, "-m", "tether", "doctor", "--json", "--workspace", str(ws)],
            capture_output=True,
            text=True,
            env={**_env(tether_home), **replay},
        )
        report = json.loads(out.stdout)
        servers = {s["pid"]: s for s in report["servers"]}
        assert set(servers) == {one.pid, two.pid}
        assert all(s["rssBytes"] > 10_000_000 for s in servers.values())
    finally:
        await one.kill()
        await two.kill()
    # a killed server's record is stale: the next reader drops it
    out = subprocess.run(
        [sys.executable, "-m", "tether", "doctor", "--json", "--workspace", str(ws)],
        capture_output=True,
        text=True,
        env={**_env(tether_home), **replay},
    )
    assert json.loads(out.stdout)["servers"] == []


def _env(home: Path) -> dict[str, str]:
    import os

    return {**os.environ, "TETHER_HOME": str(home)}


# ---------------------------------------------------------------------- a real model
@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer Llama with SmolLM2's tokenizer and a long context, so a generation can
    run for seconds (random weights rarely stop by themselves)."""
    import torch
    from tests.conftest import MODEL_CACHE
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from tether.embedded import ensure_plain_model

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TETHER_MODEL_CACHE", str(MODEL_CACHE))
        tokenizer_dir = ensure_plain_model()
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    torch.manual_seed(0)
    model = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=4096,
            tie_word_embeddings=True,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    target = tmp_path_factory.mktemp("tiny-long")
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    return target


@pytest.mark.slow
async def test_end_of_input_while_generating(ws: Path, tiny_model: Path) -> None:
    wire = await _started(
        ws,
        {
            "TETHER_MODEL": f"embedded:{tiny_model}",
            "TETHER_MAX_NEW_TOKENS": "3000",
            "TETHER_TRAINING__AUTO_SCHEDULE": "false",
        },
    )
    uri = wire.open("app.py", SOURCE)
    wire.send(
        {
            "jsonrpc": "2.0",
            "id": "propose",
            "method": "workspace/executeCommand",
            "params": {
                "command": "tether.propose",
                "arguments": [{"uri": uri, "range": GREET, "task": "improve"}],
            },
        }
    )
    busy = await wire.poll_status(
        lambda s: [m for m in s["memory"]["models"] if m["loaded"] and m["busy"]],
        "the model to be generating",
    )
    assert busy
    since = wire.close_stdin()
    code, _ = await wire.exit_within(ENDS_WITHIN, since)
    assert code == 1


@pytest.mark.slow
async def test_idle_model_is_unloaded_and_comes_back(ws: Path, tiny_model: Path) -> None:
    wire = await _started(
        ws,
        {
            "TETHER_MODEL": f"embedded:{tiny_model}",
            "TETHER_MAX_NEW_TOKENS": "8",
            "TETHER_MODEL_IDLE_UNLOAD_SECONDS": "0.5",
            "TETHER_TRAINING__AUTO_SCHEDULE": "false",
        },
    )
    try:
        uri = wire.open("app.py", SOURCE)
        args = {"uri": uri, "range": GREET, "task": "improve"}
        await wire.request(
            "workspace/executeCommand", {"command": "tether.propose", "arguments": [args]}
        )
        state = await wire.poll_status(
            lambda s: [m for m in s["memory"]["models"] if m["unloads"] == 1], "an idle unload"
        )
        assert state[0]["loaded"] is False and state[0]["idleUnloadSeconds"] == 0.5
        # the next proposal loads it again
        await wire.request(
            "workspace/executeCommand", {"command": "tether.propose", "arguments": [args]}
        )
        assert (await wire.status())["memory"]["models"][0]["loads"] == 2
    finally:
        await wire.kill()


@pytest.mark.slow
async def test_end_of_input_while_training(ws: Path, tiny_model: Path, tether_home: Path) -> None:
    """The trainer is stopped with the server; nothing is promoted, the lock is free."""
    from filelock import FileLock
    from tests.training.helpers import record_corrections

    from tether.decisions import DecisionStore
    from tether.paths import WorkspacePaths

    paths = WorkspacePaths(ws, tether_home).ensure()
    store = await DecisionStore.open(paths.db)
    await record_corrections(store, 10)
    head = await store.head()
    await store.close()

    wire = await _started(ws, _training_env(tiny_model))
    started = await wire.command("tether.trainNow", {})
    assert started["result"]["started"] is True
    await wire.until(lambda: _training_step(wire), "a training step")
    workers = [p for p in children(wire.pid) if "tether.training.worker" in p.cmdline()]
    assert workers, "the trainer runs in a child process"

    since = wire.close_stdin()
    await wire.exit_within(ENDS_WITHIN, since)
    await gone_within(workers, ENDS_WITHIN, since)

    lock = FileLock(str(paths.train_lock), timeout=0)
    lock.acquire()  # usable: the lock went with the processes
    lock.release()
    assert not paths.jobs.exists() or not list(paths.jobs.iterdir())  # candidate discarded
    store = await DecisionStore.open(paths.db)
    try:
        assert await store.head() == head  # nothing promoted or refused
        assert await store.active_adapter() is None
        assert (await store.verify()).ok
    finally:
        await store.close()


def _training_env(model: Path) -> dict[str, str]:
    return {
        "TETHER_MODEL": f"embedded:{model}",
        "TETHER_TRAINING__AUTO_SCHEDULE": "false",
        "TETHER_TRAINING__MAX_STEPS": "100000",  # runs until stopped
        "TETHER_TRAINING__BATCH_SIZE": "2",
        "TETHER_TRAINING__MAX_LENGTH": "128",
        "TETHER_TRAINING__WORKER_NICE": "0",
    }


def _training_step(wire: Wire) -> bool:
    return any(
        n["method"] == "tether/trainingStatus"
        and n["params"].get("phase") == "training"
        and n["params"].get("step")
        for n in wire.notifications
    )
