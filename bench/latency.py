"""Latency and footprint of `tether lsp`, measured over stdio through a real LSP client.

The server runs as editors run it (`python -m tether lsp`), with `TETHER_MODEL=replay:FILE`
so proposals come from recorded answers and no model is loaded. Timings are round trips
as the client sees them (JSON-RPC encoding and the pipe included), which is what an
editor waits for.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Union

FUNCTION_LINES = 20
BIG_FILE_LINES = 5_000
PENDING = 10
HUGE_FILE_BYTES = 1_000_000
SMALL_FILE = "def add(a, b):\n    return a + b\n"


def make_function(i: int) -> str:
    """One 20-line function; 250 of them make the 5,000-line file."""
    return (
        f"def summarize_{i:04d}(values, scale=1.0, label='total'):\n"
        f'    """Summarize batch {i} of values."""\n'
        "    count = 0\n"
        "    total = 0.0\n"
        "    smallest = None\n"
        "    largest = None\n"
        "    for value in values:\n"
        "        count += 1\n"
        "        total += value * scale\n"
        "        if smallest is None or value < smallest:\n"
        "            smallest = value\n"
        "        if largest is None or value > largest:\n"
        "            largest = value\n"
        "    if count == 0:\n"
        f"        return {{'label': label, 'count': 0, 'batch': {i}}}\n"
        "    mean = total / count\n"
        "    spread = (largest - smallest) * scale\n"
        "    report = '%s: %d values, mean %.3f' % (label, count, mean)\n"
        f"    return {{'label': report, 'mean': mean, 'spread': spread, 'batch': {i}}}\n"
        "\n"
    )


def improved_function(i: int) -> str:
    """What the replayed model proposes for function i: type hints and an f-string."""
    text = make_function(i).rstrip("\n") + "\n"
    text = text.replace(
        f"def summarize_{i:04d}(values, scale=1.0, label='total'):",
        f"def summarize_{i:04d}(values: list[float], scale: float = 1.0, "
        "label: str = 'total') -> dict[str, object]:",
    )
    return text.replace(
        "    report = '%s: %d values, mean %.3f' % (label, count, mean)\n",
        "    report = f'{label}: {count} values, mean {mean:.3f}'\n",
    )


def big_file() -> str:
    return "".join(make_function(i) for i in range(BIG_FILE_LINES // FUNCTION_LINES))


def huge_file() -> str:
    parts, size, i = [], 0, 0
    while size < HUGE_FILE_BYTES:
        chunk = make_function(i)
        parts.append(chunk)
        size += len(chunk.encode())
        i += 1
    return "".join(parts)


def pending_functions() -> list[int]:
    step = (BIG_FILE_LINES // FUNCTION_LINES) // PENDING
    return [k * step + 3 for k in range(PENDING)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _summary(ms: list[float]) -> dict[str, float]:
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 0.50),
        "p90_ms": percentile(ms, 0.90),
        "p99_ms": percentile(ms, 0.99),
        "max_ms": max(ms) if ms else float("nan"),
        "mean_ms": statistics.fmean(ms) if ms else float("nan"),
    }


def _converter() -> Any:
    """pygls' converter, telling a CodeAction with a `command` from a bare Command."""
    from lsprotocol import types as lsp
    from pygls.protocol import default_converter

    conv = default_converter()

    def command_or_action(obj: Any, _: type) -> Any:
        if isinstance(obj.get("command"), str):
            return conv.structure(obj, lsp.Command)
        return conv.structure(obj, lsp.CodeAction)

    conv.register_structure_hook(Union[lsp.Command, lsp.CodeAction], command_or_action)  # noqa: UP007
    return conv


def _client() -> Any:
    from lsprotocol import types as lsp
    from pytest_lsp import LanguageClient
    from pytest_lsp.client import register_lsp_features

    client = LanguageClient(converter_factory=_converter)
    register_lsp_features(client)

    @client.feature(lsp.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: lsp.ApplyWorkspaceEditParams) -> lsp.ApplyWorkspaceEditResult:
        return lsp.ApplyWorkspaceEditResult(applied=True)

    @client.feature(lsp.WINDOW_SHOW_MESSAGE_REQUEST)
    def show_message_request(params: lsp.ShowMessageRequestParams) -> None:
        return None

    @client.feature(lsp.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: lsp.RegistrationParams) -> None:
        return None

    for method in ("tether/decisionRecorded", "tether/trainingStatus", "tether/status"):
        client.feature(method)(lambda params: None)

    return client


def _init_params(ws: Path) -> Any:
    from lsprotocol import types as lsp
    from pytest_lsp import client_capabilities

    return lsp.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=ws.as_uri(),
        workspace_folders=[lsp.WorkspaceFolder(uri=ws.as_uri(), name=ws.name)],
    )


def _rss(pid: int) -> int:
    import psutil

    proc = psutil.Process(pid)
    return proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(True))


async def _start(ws: Path, env: dict[str, str]) -> tuple[Any, float, float]:
    """Seconds from spawning the server to the `initialize` answer, and to the answer to a
    first code action (the folder's store and service are open by then: really ready)."""
    client = _client()
    t0 = time.perf_counter()
    await client.start_io(sys.executable, "-m", "tether", "lsp", env=env, cwd=str(ws))
    await client.initialize_session(_init_params(ws))
    initialized = time.perf_counter() - t0
    uri = (ws / "small.py").as_uri()
    _open(client, uri, SMALL_FILE)
    await _code_action(client, uri, _rng(0, 0, 0, 0))
    return client, initialized, time.perf_counter() - t0


def compile_bytecode() -> bool:
    """Write Tether's .pyc files first, as any normal first run (or pip) would.

    Some shells export PYTHONDONTWRITEBYTECODE; the server would then compile every edited
    module from source on each start, a cost no installed copy pays.
    """
    import compileall

    import tether

    return bool(compileall.compile_dir(Path(tether.__file__).parent, quiet=1))


async def _stop(client: Any) -> None:
    try:
        await asyncio.wait_for(client.shutdown_session(), 30)
    finally:
        await client.stop()
        server = getattr(client, "_server", None)
        if server is not None and server.returncode is None:
            server.kill()
            await server.wait()


def _open(client: Any, uri: str, text: str) -> None:
    from lsprotocol import types as lsp

    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        )
    )


def _rng(sl: int, sc: int, el: int, ec: int) -> Any:
    from lsprotocol import types as lsp

    return lsp.Range(
        start=lsp.Position(line=sl, character=sc), end=lsp.Position(line=el, character=ec)
    )


async def _code_action(client: Any, uri: str, rng: Any) -> tuple[float, list[Any]]:
    from lsprotocol import types as lsp

    params = lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        range=rng,
        context=lsp.CodeActionContext(diagnostics=[]),
    )
    t0 = time.perf_counter()
    result = await client.text_document_code_action_async(params)
    return (time.perf_counter() - t0) * 1000, list(result or [])


async def measure(
    *, starts: int = 3, code_actions: int = 500, changes: int = 50, full_changes: int = 5
) -> dict[str, Any]:
    from lsprotocol import types as lsp

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="tether-bench-lsp-") as tmp:
        base = Path(tmp)
        ws = base / "ws"
        ws.mkdir()
        big, huge = big_file(), huge_file()
        (ws / "big.py").write_text(big)
        (ws / "huge.py").write_text(huge)
        replay = base / "replay.jsonl"
        with replay.open("w") as f:
            for i in pending_functions():
                completion = f"Annotate summarize_{i:04d}.\n```python\n{improved_function(i)}```"
                f.write(
                    json.dumps({"task": "improve", "path": "big.py", "completion": completion})
                    + "\n"
                )
        env = dict(os.environ)
        env.update(
            {
                "TETHER_HOME": str(base / "home"),
                "XDG_CONFIG_HOME": str(base / "xdg"),
                "TETHER_MODEL": f"replay:{replay}",
            }
        )

        out["bytecode_compiled"] = compile_bytecode()
        init_s: list[float] = []
        ready_s: list[float] = []
        client = None
        for k in range(starts):
            client, seconds, ready = await _start(ws, env)
            init_s.append(seconds)
            ready_s.append(ready)
            if k < starts - 1:
                await _stop(client)
        assert client is not None
        try:
            pid = client._server.pid
            big_uri, huge_uri = (ws / "big.py").as_uri(), (ws / "huge.py").as_uri()
            _open(client, big_uri, big)
            await _code_action(client, big_uri, _rng(0, 0, 0, 0))  # the store is open now
            out["idle_rss_mb"] = _rss(pid) / 2**20

            ids = []
            for i in pending_functions():
                first = i * FUNCTION_LINES
                result = await client.workspace_execute_command_async(
                    lsp.ExecuteCommandParams(
                        command="tether.propose",
                        arguments=[
                            {
                                "uri": big_uri,
                                "task": "improve",
                                "range": {
                                    "start": {"line": first, "character": 0},
                                    "end": {"line": first + FUNCTION_LINES - 1, "character": 0},
                                },
                            }
                        ],
                    )
                )
                ids += list((result or {}).get("proposalIds", []))
            out["proposals_created"] = len(ids)

            # code actions: every 4th request lands on a pending proposal, the rest elsewhere
            targets = pending_functions()
            ms: list[float] = []
            on_proposal: list[float] = []
            accept_actions = 0
            for r in range(code_actions):
                if r % 4 == 0:
                    fn = targets[(r // 4) % len(targets)]
                else:
                    fn = (r * 37) % (BIG_FILE_LINES // FUNCTION_LINES)
                line = fn * FUNCTION_LINES + 5
                elapsed, actions = await _code_action(client, big_uri, _rng(line, 4, line, 9))
                ms.append(elapsed)
                if fn in targets:
                    on_proposal.append(elapsed)
                    accept_actions += any("Accept" in (a.title or "") for a in actions)
            out["code_action"] = _summary(ms)
            out["code_action_on_proposal"] = _summary(on_proposal)
            out["code_action_requests_with_accept"] = accept_actions
            out["rss_after_proposals_mb"] = _rss(pid) / 2**20

            # the 1 MB file: open it, then type into it; each change is followed by a code
            # action, whose answer shows the server has taken the change in
            t0 = time.perf_counter()
            _open(client, huge_uri, huge)
            await _code_action(client, huge_uri, _rng(10, 0, 10, 1))
            out["huge_open_ms"] = (time.perf_counter() - t0) * 1000
            out["huge_bytes"] = len(huge.encode())
            baseline = [
                (await _code_action(client, huge_uri, _rng(10, 0, 10, 1)))[0]
                for _ in range(changes)
            ]
            typed: list[float] = []
            version = 1
            for j in range(changes):
                version += 1
                line = (j * 977) % 20_000
                t0 = time.perf_counter()
                client.text_document_did_change(
                    lsp.DidChangeTextDocumentParams(
                        text_document=lsp.VersionedTextDocumentIdentifier(
                            uri=huge_uri, version=version
                        ),
                        content_changes=[
                            lsp.TextDocumentContentChangePartial(
                                range=_rng(line, 4, line, 4), text="x"
                            )
                        ],
                    )
                )
                await _code_action(client, huge_uri, _rng(10, 0, 10, 1))
                typed.append((time.perf_counter() - t0) * 1000)
            whole: list[float] = []
            for _ in range(full_changes):
                version += 1
                t0 = time.perf_counter()
                client.text_document_did_change(
                    lsp.DidChangeTextDocumentParams(
                        text_document=lsp.VersionedTextDocumentIdentifier(
                            uri=huge_uri, version=version
                        ),
                        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=huge)],
                    )
                )
                await _code_action(client, huge_uri, _rng(10, 0, 10, 1))
                whole.append((time.perf_counter() - t0) * 1000)
            out["code_action_1mb_baseline"] = _summary(baseline)
            out["did_change_1mb_incremental"] = _summary(typed)
            out["did_change_1mb_full"] = _summary(whole)
            out["rss_end_mb"] = _rss(pid) / 2**20
        finally:
            await _stop(client)
    out["initialize_s"] = init_s
    out["initialize_ms_median"] = 1000 * statistics.median(init_s)
    out["initialize_ms_min"] = 1000 * min(init_s)
    # The first start also fills the attrs code cache (tether.lsp.codecache), like a first
    # run writing .pyc files; later starts are what an editor sees every day.
    out["initialize_ms_first_start"] = 1000 * init_s[0]
    out["ready_s"] = ready_s
    out["ready_ms_median"] = 1000 * statistics.median(ready_s)
    return out


def run(**kwargs: Any) -> dict[str, Any]:
    return asyncio.run(measure(**kwargs))
