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
    assert len(run.steps) == 12
    # what the agent's verifier refuses (a signature change, a name it cannot resolve) is a
    # failed proposal; the rest were proposed and decided
    assert run.metrics["failed_proposals"] < 12
    for s in run.steps:
        if s.mode == "failed":
            continue
        # every proposal went through TetherService.propose: it has the classifier's key
        # and the policy's decision with its drift-aware prediction
        task, kind, language = s.class_key.split(":")[:3]
        assert (task, language) == (s.task, "python") and kind  # the agent's kind of change
        assert s.mode in ("ask", "auto", "quiet")
        assert s.predicted is not None and 0.0 <= s.predicted <= 1.0
        assert s.verdict == ("reject" if "test" in s.path else "accept")
    assert run.metrics["overall"]["ece"] is not None


def _steps(modes_verdicts: list[tuple[str, str]], predicted: float = 0.9) -> list[learning.Step]:
    label = {"accept": 1.0, "correct": 0.5, "reject": 0.0}
    return [
        learning.Step(i, "t", "p", "k", mode, None, predicted, verdict, label[verdict], True)
        for i, (mode, verdict) in enumerate(modes_verdicts)
    ]


def test_seeds_are_pooled_the_way_the_targets_read() -> None:
    # seed 0: 10 autos, 1 of them unwanted; seed 1: 90 autos, none unwanted
    a = _steps([("auto", "reject")] + [("auto", "accept")] * 9 + [("ask", "accept")] * 90)
    b = _steps([("auto", "accept")] * 90 + [("ask", "accept")] * 10)
    runs = [
        learning.LearningRun("p", "p.py", 1.0, learning.persona_metrics(steps, 50), steps, seed)
        for seed, steps in ((0, a), (1, b))
    ]
    pooled = learning.pooled_metrics(runs)
    assert pooled["seeds"] == [0, 1] and pooled["auto_decisions"] == 100
    # pooled: 1 of 100 autos, not the mean of the seeds' rates (0.1 and 0)
    assert pooled["false_auto"] == 1 and pooled["false_auto_rate"] == pytest.approx(0.01)
    assert pooled["false_auto_rate_worst"] == pytest.approx(0.1)
    reductions = [r.metrics["prompt_reduction_last_100"] for r in runs]
    assert reductions == pytest.approx([0.1, 0.9])
    assert pooled["prompt_reduction_last_100"] == pytest.approx(0.5)
    assert pooled["prompt_reduction_last_100_worst"] == pytest.approx(0.1)
    eces = [r.metrics["overall"]["ece"] for r in runs]
    assert pooled["ece"] == pytest.approx(sum(eces) / 2)
    assert pooled["ece_worst"] == pytest.approx(max(eces))
    # window 1-50: 10 + 50 autos, 1 unwanted; window 51-100: the second seed's 40 autos
    assert [c["false_auto_rate"] for c in pooled["curve"]] == pytest.approx([1 / 60, 0.0])


def test_seed_lists_parse_and_bad_ones_are_refused(capsys) -> None:
    assert parse_args(["--full", "--seeds", "0-2,5"]).seeds == [0, 1, 2, 5]
    assert parse_args(["--quick"]).seeds is None  # the mode's own seeds
    for bad in ("x", "3-1", "-1"):
        with pytest.raises(SystemExit):
            parse_args(["--quick", "--seeds", bad])
        assert "not a list of seeds" in capsys.readouterr().err


def test_the_learning_bench_reports_every_seed_and_judges_the_pool(tmp_path: Path) -> None:
    from bench.results import BenchResult
    from bench.run import bench_learning

    path = tmp_path / "mine.py"
    path.write_text(PERSONA)
    args = parse_args(["--quick", "--persona", str(path), "--seeds", "3,4", "--decisions", "12"])
    result = BenchResult(name="learning-quick", title="t", mode="quick", machine={})
    bench_learning(result, {"decisions": 100, "seeds": (0, 1)}, args)
    m = result.metrics["yes-but-no-tests"]
    assert sorted(m["per_seed"]) == ["3", "4"] and m["pooled"]["seeds"] == [3, 4]
    assert all(s["decisions"] == 12 for s in m["per_seed"].values())
    assert [t.name.split(":")[0] for t in result.targets] == ["yes-but-no-tests"] * 5
    assert result.targets[4].value == pytest.approx(m["pooled"]["ece_worst"])
    ours = m["pooled"]["policies"]["tether"]
    assert result.targets[1].value == ours["wanted_quiet_share"]
    side_by_side = next(t for t in result.tables if "three baselines" in t.title)
    assert [row[0].split(" ")[0] for row in side_by_side.rows] == [
        "Tether",
        "always",
        "hindsight",
        "Cursor-style",
    ]
    per_seed = next(t for t in result.tables if t.title.startswith("Per persona and seed"))
    assert [row[1] for row in per_seed.rows] == [3, 4]
    assert "Per persona over stream seeds 3, 4" in result.render()


def test_the_offline_replay_gives_the_benchmarks_numbers_step_by_step() -> None:
    import dataclasses

    from bench.personas import load_persona
    from bench.rewrites import stream

    from tether.config import PolicySettings

    decisions, seed = 60, 2
    [run] = learning.run(["modernizer"], decisions=decisions, seed=seed)
    persona = load_persona("modernizer")
    persona.configure(drift_at=decisions // 2)
    # the service keeps the recorded answers' own kinds (the replay provider passes them on)
    trace = learning.verdict_trace(persona, stream(decisions, seed=seed), key_kinds="stream")
    # the replay has no verifier: proposals the agent's verifier refused are failed there too
    trace = [
        dataclasses.replace(t, class_key="") if s.mode == "failed" else t
        for t, s in zip(trace, run.steps, strict=True)
    ]
    replayed = learning.replay_trace(trace, PolicySettings(), seed)

    def view(steps: list[learning.Step]) -> list[tuple]:
        return [(s.class_key, s.mode, s.override, s.predicted, s.verdict) for s in steps]

    assert view(replayed) == view(run.steps)
    assert {s.mode for s in run.steps} >= {"ask", "auto"}  # the policy had choices to make


DICT_PERSONA = """\
NAME = "plain"


def judge(p: dict) -> dict:
    assert isinstance(p, dict) and set(p) >= {"path", "original", "proposed", "task", "kind",
                                              "index"}
    if p["kind"] == "docstring":
        return {"decision": "accept"}
    if p["task"] == "fstring" and p["index"] % 2:
        return {"decision": "correct", "corrected": p["proposed"] + "# ok\\n"}
    return {"decision": "reject", "reason": f"not {p['kind']}"}
"""


def test_a_dict_persona_runs_through_the_replay(tmp_path: Path) -> None:
    from bench.personas import load_persona
    from bench.rewrites import stream

    from tether.config import PolicySettings

    path = tmp_path / "plain.py"
    path.write_text(DICT_PERSONA)
    persona = load_persona(path)
    parts = ["task", "kind", "language", "area", "size"]
    rewrites = stream(40, seed=0)
    trace = learning.verdict_trace(persona, rewrites, parts)
    assert {t.kind for t in trace} >= {"docstring"}
    for t in trace:
        expected = "accept" if t.kind == "docstring" else None
        assert expected is None or t.verdict == expected
        assert t.class_key.split(":")[1] == t.kind  # the key carries the kind of change
    assert any(t.verdict == "correct" for t in trace)
    steps = learning.replay_trace(trace, PolicySettings(), 0, parts)
    metrics = learning.persona_metrics(steps, 20, flip_at=20)
    assert metrics["decisions"] == 40 and set(metrics["policies"]) == {
        "tether",
        "always_ask",
        "oracle",
        "cursor",
    }
    assert metrics["policies"]["always_ask"]["prompts"] == 40


def _scripted(pattern: list[tuple[str, str, str]]) -> list[learning.Step]:
    label = {"accept": 1.0, "correct": 0.5, "reject": 0.0}
    return [
        learning.Step(i, "t", "p", key, mode, None, 0.5, verdict, label[verdict], True, kind)
        for i, (key, kind, verdict, mode) in enumerate(
            (k, kind, v, "ask") for k, kind, v in pattern
        )
    ]


def test_the_oracle_and_the_cursor_style_baseline_on_a_scripted_stream() -> None:
    from bench import baselines

    # class a: 19 of 20 accepted (0.95: auto); b: all rejected (quiet); c: half (ask)
    pattern = []
    for i in range(20):
        pattern.append(("t:a:code", "a", "reject" if i == 7 else "accept"))
        pattern.append(("t:b:code", "b", "reject"))
        pattern.append(("t:c:code", "c", "accept" if i % 2 else "reject"))
    steps = _scripted(pattern)
    modes = baselines.oracle(steps)
    assert {(s.class_key, m) for s, m in zip(steps, modes, strict=True)} == {
        ("t:a:code", "auto"),
        ("t:b:code", "quiet"),
        ("t:c:code", "ask"),
    }
    oracle = baselines.policy_numbers(steps, modes)
    # the one rejection in class a is the false auto no class key explains
    assert oracle["autos"] == 20 and oracle["false_autos"] == 1
    assert oracle["wanted_quiet"] == 0 and oracle["prompts"] == 20
    # Cursor-style: never auto; shows everything until it has learned, then hides class b
    cursor = baselines.cursor(steps)
    assert "auto" not in cursor
    assert cursor[: baselines.CURSOR_REFIT] == ["ask"] * baselines.CURSOR_REFIT
    late = [(s.class_key, m) for s, m in zip(steps, cursor, strict=True)][-15:]
    assert {m for k, m in late if k == "t:b:code"} == {"quiet"}
    assert {m for k, m in late if k != "t:b:code"} == {"ask"}
    numbers = baselines.all_policies(steps)
    assert numbers["always_ask"]["prompts"] == 60
    assert numbers["always_ask"]["shown_taken"] == 19 + 10
    pooled = baselines.compare([numbers, numbers])
    assert pooled["always_ask"]["fewer_prompts"] == 0.0
    assert pooled["oracle"]["fewer_prompts"] == pytest.approx(1 - 40 / 120)
    assert pooled["oracle"]["accept_lift"] == pytest.approx((10 / 20) / (29 / 60))


def test_a_flip_is_measured_by_the_edits_applied_before_the_first_ask() -> None:
    from bench import baselines

    # kind h accepted before decision 10, rejected after; the policy applied 2 after the flip
    pattern = [("t:h:code", "h", "accept" if i < 10 else "reject") for i in range(20)]
    steps = _scripted(pattern)
    modes = ["ask"] * 5 + ["auto"] * 7 + ["ask"] + ["auto"] * 7
    assert baselines.flipped_kinds(steps, 10) == {"h"}
    assert baselines.applied_before_ask(steps, modes, 10, {"h"}) == 2


def test_kinds_of_the_benchmark_stream() -> None:
    from bench.kinds import kind_of
    from bench.rewrites import Rewrite

    def rw(task: str, variant: str, original: str = "", proposed: str = "") -> Rewrite:
        return Rewrite(task, "m.py", "f", 0, 1, original, proposed, variant)

    assert kind_of(rw("compare-idiom", "is-none")) == "E711"
    assert kind_of(rw("compare-idiom", "not-in")) == "E713"
    assert kind_of(rw("dead-code", "redundant-pass")) == "PIE790"
    assert kind_of(rw("docstring", "sphinx")) == "docstring"
    join = rw("pathlib", "pathlib", "x = os.path.join(a, b)\n", "x = Path(a) / b\n")
    assert kind_of(join) == "PTH118"
