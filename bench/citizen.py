"""Good-citizen figures (issue 21): how fast `tether lsp` ends with its editor, and how much
memory it holds.

- End of input -> exit: stdin of a real server is closed while it is idle, while the
  embedded SmolLM2 is generating, and while the trainer (a child process) is in a training
  step; measured until the server *and* every child it had are gone.
- Resident memory (RSS): a server idle before any model loaded, with the model loaded,
  and after the idle unload; two servers on one workspace (two editor windows).
- What an unload costs: the time to load the model again, which is what the default of
  `model_idle_unload_seconds` is weighed against.

`python -m bench.run --only citizen` (add `--quick` for the short variant).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

TIMEOUT = 600.0
SOURCE = (
    'def greet(name):\n    message = "Hello, " + name\n    print(message)\n    return message\n'
)
GREET = {"start": {"line": 0, "character": 0}, "end": {"line": 3, "character": 18}}
MB = 2**20


class Server:
    """`tether lsp` over pipes, driven the way a minimal editor would."""

    def __init__(self, proc: asyncio.subprocess.Process, root: Path) -> None:
        self.proc, self.root, self.pid = proc, root, proc.pid
        self.notes: list[dict[str, Any]] = []
        self._id = 0
        self._waiting: dict[Any, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(cls, root: Path, env: dict[str, str]) -> Server:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tether",
            "lsp",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, **env},
            limit=1 << 24,
        )
        server = cls(proc, root)
        await server.request(
            "initialize",
            {"processId": None, "rootUri": root.as_uri(), "capabilities": {}},
        )
        server.notify("initialized", {})
        await server.poll(lambda s: s["workspaces"][0]["db"])
        return server

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def send_request(self, method: str, params: Any) -> asyncio.Future[dict[str, Any]]:
        self._id += 1
        fut = asyncio.get_running_loop().create_future()
        self._waiting[self._id] = fut
        self._send({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params})
        return fut

    async def request(self, method: str, params: Any) -> dict[str, Any]:
        async with asyncio.timeout(TIMEOUT):
            return await self.send_request(method, params)

    def propose(self, uri: str) -> asyncio.Future[dict[str, Any]]:
        return self.send_request(
            "workspace/executeCommand",
            {
                "command": "tether.propose",
                "arguments": [{"uri": uri, "range": GREET, "task": "improve"}],
            },
        )

    def open(self, name: str) -> str:
        path = self.root / name
        path.write_text(SOURCE, encoding="utf-8")
        doc = {"uri": path.as_uri(), "languageId": "python", "version": 1, "text": SOURCE}
        self.notify("textDocument/didOpen", {"textDocument": doc})
        return path.as_uri()

    async def status(self) -> dict[str, Any]:
        return (await self.request("tether/status", {}))["result"]

    async def poll(self, check: Callable[[dict[str, Any]], Any]) -> Any:
        async with asyncio.timeout(TIMEOUT):
            while not (value := check(await self.status())):
                await asyncio.sleep(0.05)
        return value

    def rss(self) -> int:
        return int(psutil.Process(self.pid).memory_info().rss)

    async def end_of_input(self) -> dict[str, Any]:
        """Close stdin; seconds until the server and all its children are gone."""
        kids = psutil.Process(self.pid).children(recursive=True)
        assert self.proc.stdin is not None
        t0 = time.perf_counter()
        self.proc.stdin.close()
        code = await self.proc.wait()
        server_s = time.perf_counter() - t0
        while any(_alive(k) for k in kids):
            await asyncio.sleep(0.005)
        self._reader.cancel()
        return {
            "exit_code": code,
            "server_s": round(server_s, 3),
            "all_gone_s": round(time.perf_counter() - t0, 3),
            "children": len(kids),
        }

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self._reader.cancel()

    async def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = 0
            while (line := await out.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line:
                return
            msg = json.loads(await out.readexactly(length))
            if "method" in msg and "id" in msg:  # the server asks: answer like an editor
                items = msg.get("params", {}).get("items", [])
                result = [None] * len(items) if msg["method"] == "workspace/configuration" else None
                self._send({"jsonrpc": "2.0", "id": msg["id"], "result": result})
            elif "method" in msg:
                self.notes.append(msg)
            elif (fut := self._waiting.pop(msg.get("id"), None)) and not fut.done():
                fut.set_result(msg)


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _models(status: dict[str, Any]) -> list[dict[str, Any]]:
    return status["memory"]["models"]


async def _seed_corrections(root: Path, count: int) -> None:
    """`count` proposals the user corrected (DPO pairs), so "Train now" has work to do."""
    from tether.core.diff import make_hunks
    from tether.core.response_format import render_completion
    from tether.core.types import Actor, Candidate, Outcome, Position, Proposal, Range
    from tether.decisions import DecisionStore
    from tether.paths import WorkspacePaths

    store = await DecisionStore.open(WorkspacePaths(root).ensure().db)
    try:
        for i in range(count):
            name = f"f{i}"
            original = f"def {name}(a, b): return a+b\n"
            plain = f"def {name}(a, b):\n    return a + b\n"
            typed = f"def {name}(a: int, b: int) -> int:\n    return a + b\n"
            prompt = (
                "<|im_start|>system\nAnswer with code.<|im_end|>\n"
                f"<|im_start|>user\nImprove `{name}`:\n{original}<|im_end|>\n"
                "<|im_start|>assistant\n"
            )
            completion = render_completion(plain)
            p = Proposal(
                id=f"bench{i:03d}",
                uri=f"file:///ws/src/{name}.py",
                path=f"src/{name}.py",
                range=Range.of(0, 0, 1, 0),
                task="improve",
                class_key="improve|python|src|small",
                rationale="Simplify",
                original=original,
                proposed=plain,
                hunks=make_hunks(original, plain, Position(line=0, character=0)),
                candidates=[Candidate(text=plain, completion=completion)],
                prompt=prompt,
                completion=completion,
                model="embedded:smollm2",
            )
            await store.add_proposal(p)
            await store.record(Outcome.ACCEPTED, actor=Actor.USER, proposal_id=p.id)
            await store.record(Outcome.CORRECTED, actor=Actor.USER, proposal_id=p.id, after=typed)
    finally:
        await store.close()


BASE_ENV = {"TETHER_TRAINING__AUTO_SCHEDULE": "false", "TETHER_MAX_NEW_TOKENS": "48"}


async def _ending(tmp: Path, *, training: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    idle_ws = tmp / "idle"
    idle_ws.mkdir()
    server = await Server.start(idle_ws, BASE_ENV)
    server.open("app.py")
    await server.status()
    out["idle"] = await server.end_of_input()

    gen_ws = tmp / "generating"
    gen_ws.mkdir()
    server = await Server.start(gen_ws, {**BASE_ENV, "TETHER_MAX_NEW_TOKENS": "1024"})
    server.propose(server.open("app.py"))
    await server.poll(lambda s: [m for m in _models(s) if m["loaded"] and m["busy"]])
    out["generating"] = await server.end_of_input()
    if not training:
        return out

    train_ws = tmp / "training"
    train_ws.mkdir()
    await _seed_corrections(train_ws, 12)
    env = {**BASE_ENV, "TETHER_TRAINING__MAX_STEPS": "1000", "TETHER_TRAINING__MAX_LENGTH": "128"}
    server = await Server.start(train_ws, env)
    await server.request(
        "workspace/executeCommand", {"command": "tether.trainNow", "arguments": [{}]}
    )

    def stepping() -> bool:
        return any(
            n["method"] == "tether/trainingStatus" and n["params"].get("step") for n in server.notes
        )

    async with asyncio.timeout(TIMEOUT):
        while not stepping():
            await asyncio.sleep(0.05)
    out["training"] = await server.end_of_input()
    return out


async def _memory(tmp: Path, idle_unload: float, *, both_loaded: bool) -> dict[str, Any]:
    ws = tmp / "memory"
    ws.mkdir()
    env = {**BASE_ENV, "TETHER_MODEL_IDLE_UNLOAD_SECONDS": str(idle_unload)}
    server = await Server.start(ws, env)
    try:
        uri = server.open("app.py")
        out: dict[str, Any] = {"rss_idle_before_load_mb": round(server.rss() / MB, 1)}
        await server.propose(uri)
        loaded = _models(await server.status())[0]
        out["rss_model_loaded_mb"] = round(server.rss() / MB, 1)
        out["first_load_s"] = loaded["loadSeconds"]
        await server.poll(lambda s: _models(s)[0]["unloads"] >= 1)
        out["rss_after_unload_mb"] = round(server.rss() / MB, 1)
        t0 = time.perf_counter()
        await server.propose(uri)
        out["second_proposal_s"] = round(time.perf_counter() - t0, 3)
        out["reload_s"] = _models(await server.status())[0]["loadSeconds"]
        out["idle_unload_seconds"] = idle_unload
    finally:
        await server.kill()

    both = tmp / "two"
    both.mkdir()
    one, two = await Server.start(both, BASE_ENV), await Server.start(both, BASE_ENV)
    try:
        out["two_servers_idle_mb"] = [round(s.rss() / MB, 1) for s in (one, two)]
        seen = (await one.status())["memory"]["otherServers"]
        out["two_servers_reported_mb"] = [round(o["rssBytes"] / MB, 1) for o in seen]
        if both_loaded:
            await asyncio.gather(one.propose(one.open("a.py")), two.propose(two.open("b.py")))
            out["two_servers_loaded_mb"] = [round(s.rss() / MB, 1) for s in (one, two)]
    finally:
        await one.kill()
        await two.kill()
    return out


def run(*, quick: bool = False, tmp: Path | None = None) -> dict[str, Any]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tether-citizen-") as name:
        base = tmp or Path(name)

        async def main() -> dict[str, Any]:
            # quick: no training run, and the second server's model is not loaded
            memory = await _memory(base, idle_unload=3.0, both_loaded=not quick)
            ending = await _ending(base, training=not quick)
            return {"ending": ending, "memory": memory, "quick": quick}

        return asyncio.run(main())


def bench(result: Any, options: dict[str, Any], args: Any) -> None:
    """Fill a `bench.results.BenchResult` (called by bench/run.py)."""
    from bench.results import Table, Target

    m = run(**options)
    result.metrics = m
    end, mem = m["ending"], m["memory"]
    result.tables = [
        Table(
            title="End of input on stdin -> exit (server and all its children gone)",
            headers=["while", "server exit s", "all gone s", "children", "exit code"],
            rows=[
                [k, v["server_s"], v["all_gone_s"], v["children"], v["exit_code"]]
                for k, v in end.items()
            ],
        ),
        Table(
            title="Resident memory of one server (embedded SmolLM2)",
            headers=["state", "RSS MB"],
            rows=[
                ["idle, before any model", mem["rss_idle_before_load_mb"]],
                ["model loaded (after one proposal)", mem["rss_model_loaded_mb"]],
                [
                    f"after idle unload ({mem['idle_unload_seconds']:g} s)",
                    mem["rss_after_unload_mb"],
                ],
            ],
        ),
        Table(
            title="Two servers on one workspace (two editor windows)",
            headers=["state", "server 1 MB", "server 2 MB", "total MB"],
            rows=[
                ["idle", *mem["two_servers_idle_mb"], round(sum(mem["two_servers_idle_mb"]), 1)],
                *(
                    [
                        [
                            "each made a proposal",
                            *mem["two_servers_loaded_mb"],
                            round(sum(mem["two_servers_loaded_mb"]), 1),
                        ]
                    ]
                    if "two_servers_loaded_mb" in mem
                    else []
                ),
            ],
        ),
        Table(
            title="What an unload costs",
            headers=["first load s", "reload after unload s", "proposal after unload s"],
            rows=[[mem["first_load_s"], mem["reload_s"], mem["second_proposal_s"]]],
        ),
    ]
    result.targets = [
        Target(
            name=f"end of input -> all gone ({k})",
            value=v["all_gone_s"],
            target=2.0,
            op="<=",
            unit="s",
        )
        for k, v in end.items()
    ]
