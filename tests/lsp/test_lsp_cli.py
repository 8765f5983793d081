"""`tether lsp` itself: stdio by default, `--tcp HOST:PORT` for debugging."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys

import pytest

from tether.cli.main import main


def _frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


async def _read(reader: asyncio.StreamReader) -> dict:
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(await reader.readexactly(length))


async def test_tcp_mode_serves_initialize(tmp_path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tether",
        "lsp",
        "--tcp",
        "127.0.0.1:0",
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "TETHER_HOME": str(tmp_path)},
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
            _frame(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}},
                }
            )
        )
        await writer.drain()
        reply = await _read(reader)
        assert reply["id"] == 1 and reply["result"]["serverInfo"]["name"] == "tether"
        assert (
            "tether.propose"
            in reply["result"]["capabilities"]["executeCommandProvider"]["commands"]
        )
        writer.close()
    finally:
        proc.kill()
        await proc.wait()


def test_bad_tcp_address_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lsp", "--tcp", "localhost"]) == 1
    assert "--tcp wants HOST:PORT" in capsys.readouterr().err
