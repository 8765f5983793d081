"""Time to the model's first words in the editor vs to its whole answer (issue 18).

`python -m bench.streaming [--requests N]`: starts `tether lsp` as an editor does, with the
real embedded SmolLM2-135M, and sends `tether.ask` on a function N times. For each request
it times, as the client sees them, the first `$/progress` report carrying text (the answer
so far, streamed) and the command's answer (the proposal verified and recorded). Writes
`bench/results/streaming.json` and prints its Markdown. Nothing is asserted: it is a
measurement (the first number is what a user now waits for before seeing anything).
`TETHER_MODEL` in the environment measures another model (for example `ollama:NAME`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.latency import _init_params, _open, _stop
from bench.machine import REPO, machine_info
from bench.results import BenchResult, Table, write_result

FUNCTION = (
    "def total(values):\n"
    "    result = 0\n"
    "    for v in values:\n"
    "        result = result + v\n"
    "    return result\n"
)
WORDS = "use the built-in sum"


def _client(stamps: dict[Any, list[tuple[float, str]]]) -> Any:
    """pytest-lsp's client whose progress handler keeps when each report arrived."""
    from lsprotocol import types as lsp
    from pytest_lsp import LanguageClient
    from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

    client = LanguageClient()
    features = dict(DEFAULT_CLIENT_FEATURES)
    default_progress = features[lsp.PROGRESS]

    def progress(ls: Any, params: Any) -> None:  # `ls`: pygls passes the client by that name
        value = params.value or {}
        if value.get("kind") == "report" and (value.get("message") or "").strip():
            stamps.setdefault(params.token, []).append((time.perf_counter(), value["message"]))
        default_progress(ls, params)

    features[lsp.PROGRESS] = progress
    register_lsp_features(client, features)

    @client.feature(lsp.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: lsp.ApplyWorkspaceEditParams) -> lsp.ApplyWorkspaceEditResult:
        return lsp.ApplyWorkspaceEditResult(applied=True)

    @client.feature(lsp.WINDOW_SHOW_MESSAGE_REQUEST)
    def show_message_request(params: lsp.ShowMessageRequestParams) -> None:
        return None

    @client.feature(lsp.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: lsp.RegistrationParams) -> None:
        return None

    for method in ("tether/decisionRecorded", "tether/trainingStatus"):
        client.feature(method)(lambda params: None)
    return client


async def measure(requests: int = 3) -> dict[str, Any]:
    from lsprotocol import types as lsp

    stamps: dict[Any, list[tuple[float, str]]] = {}
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="tether-bench-stream-") as tmp:
        ws = Path(tmp) / "ws"
        ws.mkdir()
        env = {
            **os.environ,
            "TETHER_HOME": str(Path(tmp) / "home"),
            "TETHER_MODEL": os.environ.get("TETHER_MODEL", "embedded:smollm2"),
            "TETHER_MODEL_CACHE": os.environ.get(
                "TETHER_MODEL_CACHE", str(REPO / ".tether-test" / "models")
            ),
            "TETHER_TRAINING__AUTO_SCHEDULE": "false",
        }
        client = _client(stamps)
        await client.start_io(sys.executable, "-m", "tether", "lsp", env=env, cwd=str(ws))
        await client.initialize_session(_init_params(ws))
        try:
            for i in range(requests + 1):  # the first loads the model: reported apart
                name = f"m{i}.py"
                (ws / name).write_text(FUNCTION, encoding="utf-8")
                uri = (ws / name).as_uri()
                _open(client, uri, FUNCTION)
                token = f"bench-stream-{i}"
                client.progress_reports.setdefault(token, [])
                t0 = time.perf_counter()
                failed = ""
                try:
                    await client.workspace_execute_command_async(
                        lsp.ExecuteCommandParams(
                            command="tether.ask",
                            arguments=[
                                {
                                    "uri": uri,
                                    "range": {
                                        "start": {"line": 0, "character": 0},
                                        "end": {"line": 4, "character": 17},
                                    },
                                    "instruction": WORDS,
                                }
                            ],
                            work_done_token=token,
                        )
                    )
                except Exception as exc:  # no proposal is an answer too: the stream still ran
                    failed = str(exc).splitlines()[0][:80]
                answered = time.perf_counter() - t0
                seen = stamps.get(token, [])
                rows.append(
                    {
                        "request": i,
                        "first_text_s": round(seen[0][0] - t0, 3) if seen else None,
                        "answer_s": round(answered, 3),
                        "reports": len(seen),
                        "last_chars": len(seen[-1][1]) if seen else 0,
                        "no_proposal": failed,
                    }
                )
        finally:
            await _stop(client)
    warm = [r for r in rows if r["request"] > 0 and r["first_text_s"] is not None]
    return {
        "rows": rows,
        "first_text_p50_s": statistics.median(r["first_text_s"] for r in warm) if warm else None,
        "answer_p50_s": statistics.median(r["answer_s"] for r in warm) if warm else None,
        "load_1min": round(os.getloadavg()[0], 1),
    }


def bench(result: BenchResult, options: dict[str, Any]) -> None:
    """Measure `options["requests"]` asks and fill `result` (also `python -m bench.run`)."""
    m = asyncio.run(measure(int(options.get("requests", 3))))
    result.metrics = m
    result.tables = [
        Table(
            title="tether.ask over stdio, embedded SmolLM2-135M (request 0 loads the model)",
            headers=["request", "first text (s)", "answer (s)", "reports", "last report"],
            rows=[
                [
                    r["request"],
                    r["first_text_s"],
                    r["answer_s"],
                    r["reports"],
                    f"{r['last_chars']} chars" + (" (no proposal)" if r["no_proposal"] else ""),
                ]
                for r in m["rows"]
            ],
        )
    ]
    result.notes = [
        f"Median after the model loaded: first text {m['first_text_p50_s']} s, whole "
        f"answer {m['answer_p50_s']} s (load {m['load_1min']} on "
        f"{machine_info().get('cores')} cores). Reports are rate-limited to one per 0.25 s.",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = BenchResult(
        name="streaming",
        title="Streaming: the model's first words vs its whole answer",
        mode="full",  # one size only: its quick and full runs are the same
        command=f"python -m bench.streaming --requests {args.requests}",
        machine=machine_info(),
    )
    bench(result, {"requests": args.requests})
    result.duration_s = time.perf_counter() - started
    write_result(result)
    print(result.render())


if __name__ == "__main__":
    main()
