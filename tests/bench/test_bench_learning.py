"""The learning benchmark: any persona file, through the server's own propose path."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.run import parse_args

from bench import learning

PERSONA = """\
from bench.personas import Verdict

NAME = "yes-but-no-tests"


def judge(proposal):
    if "test" in proposal.path:
        return Verdict.reject("not the tests")
    return Verdict.accept()
"""


def test_ece_is_the_count_weighted_gap_over_equal_width_bins() -> None:
    def step(p: float, y: float) -> learning.Step:
        return learning.Step(0, "t", "p", "k", "ask", None, p, "accept", y, True)

    # bin [0.9, 1.0]: mean prediction 0.95, outcome 0.5; bin [0.1, 0.2): 0.1 vs 0.0
    steps = [step(0.9, 1.0), step(1.0, 0.0), step(0.1, 0.0), step(0.1, 0.0)]
    assert learning.ece(steps) == pytest.approx(0.5 * 0.45 + 0.5 * 0.1)
    assert learning.ece([step(0.3, 1.0)] * 3 + [step(0.3, 0.0)] * 7) == pytest.approx(0.0)


def test_a_persona_file_runs_through_the_service(tmp_path: Path) -> None:
    path = tmp_path / "mine.py"
    path.write_text(PERSONA)
    args = parse_args(["--quick", "--only", "learning", "--persona", str(path)])
    assert args.persona == [str(path.resolve())]
    [run] = learning.run(args.persona, decisions=12, seed=1)
    assert run.persona == "yes-but-no-tests" and run.path == str(path.resolve())
    assert len(run.steps) == 12 and run.metrics["failed_proposals"] == 0
    for s in run.steps:
        # every proposal went through TetherService.propose: it has the classifier's key
        # and the policy's decision with its drift-aware prediction
        assert s.class_key.startswith(f"{s.task}:python:") and s.mode in ("ask", "auto", "quiet")
        assert s.predicted is not None and 0.0 <= s.predicted <= 1.0
        assert s.verdict == ("reject" if "test" in s.path else "accept")
    assert run.metrics["overall"]["ece"] is not None
