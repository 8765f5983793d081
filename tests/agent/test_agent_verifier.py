"""Each verifier check refuses a crafted bad candidate and keeps a good one.

Real ruff (the one installed with Tether) and real commands in a scratch copy of the
workspace; nothing is mocked.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tether.agent.tools.commands import CommandCheck
from tether.agent.tools.ruff import DEFAULT_IMPROVE_RULES, SAFETY_RULES, Ruff
from tether.agent.verifier import Candidate, Subject, Verifier

DOC = (
    "def describe(name, count, location):\n"
    "    if location == None:\n"
    '        return "%s x%d (unplaced)" % (name, count)\n'
    "    return name\n"
)
RULES = (*DEFAULT_IMPROVE_RULES, *SAFETY_RULES)
LINE = '        return "%s x%d (unplaced)" % (name, count)'
START = DOC.index(LINE)
GOOD = '        return f"{name} x{count} (unplaced)"'


def model(text: str, target: str | None = "UP031") -> Candidate:
    return Candidate(
        text=text,
        completion="",
        rationale="",
        source="student",
        kind="UP031",
        target=target,
        role="student",
    )


async def verifier(ws: Path, commands: CommandCheck | None = None, **subject: object) -> Verifier:
    ruff = Ruff(ws)
    s = Subject(
        path="src/m.py",
        language="python",
        document=DOC,
        start=START,
        end=START + len(LINE),
        rules=RULES,
        **subject,  # type: ignore[arg-type]
    )
    return Verifier(s, ruff, commands, baseline=await ruff.check(DOC, "src/m.py", RULES))


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/m.py").write_text(DOC)
    return tmp_path


async def test_a_good_fix_passes_every_check(ws: Path) -> None:
    v = await (await verifier(ws)).verify(model(GOOD))
    assert v.ok, v.reason
    assert v.passed == [
        "parses",
        "keeps names and parameters",
        "keeps the values and text it used",
        "fixes the finding",
        "adds no ruff finding",
    ]


BAD = {
    "does not parse": ('        return f"{name} x{count}" +', "broken edit"),
    "drops a value": (
        '        return f"{name} x (unplaced)"',
        "drops behaviour: it no longer uses `count`",
    ),
    "drops text": (
        '        return f"{name} x{count}"',
        "drops behaviour: it drops the text 'unplaced'",
    ),
    "assigns a name": (
        '        name = f"{name} x{count} (unplaced)"; return name',
        "drops behaviour: it assigns `name`",
    ),
    "does not fix": (
        '        return "%s x%d (unplaced)!" % (name, count)',
        "does not fix: ruff still reports UP031",
    ),
    "adds a finding": (
        '        return f"{name} x{count} (unplaced)" + str(undefined_thing)',
        "adds lint: ruff now reports F821",
    ),
}


@pytest.mark.parametrize("text,reason", BAD.values(), ids=list(BAD))
async def test_each_check_refuses_its_bad_candidate(ws: Path, text: str, reason: str) -> None:
    v = await (await verifier(ws)).verify(model(text))
    assert not v.ok and v.reason.startswith(reason), v.reason


async def test_a_renamed_definition_is_refused(ws: Path) -> None:
    whole = DOC.rstrip("\n")
    s = Subject("src/m.py", "python", DOC, 0, len(whole), rules=RULES)
    v = Verifier(s, Ruff(ws), baseline=await Ruff(ws).check(DOC, "src/m.py", RULES))
    renamed = whole.replace("def describe(name, count, location)", "def describe(name, count)")
    bad = await v.verify(model(renamed, target=None))
    assert not bad.ok and bad.reason.startswith("changes a signature")
    assert "so existing calls break" in bad.reason
    # a parameter added at the end with a default keeps every caller working: it is
    # allowed (the class's public_signature risk flag makes it a modal prompt instead)
    extended = whole.replace("location):", "location, sep=' '):")
    assert (await v.verify(model(extended, target=None))).ok


async def test_documentation_tasks_keep_the_code(ws: Path) -> None:
    head = "def describe(name, count, location):"
    s = Subject("src/m.py", "python", DOC, 0, len(head), keeps_code=True, rules=RULES)
    v = Verifier(s, Ruff(ws), baseline=await Ruff(ws).check(DOC, "src/m.py", RULES))
    documented = head + '\n    """Say where an item is."""'
    assert (await v.verify(model(documented, target=None))).ok
    changed = head + "\n    location = None"
    bad = await v.verify(model(changed, target=None))
    assert not bad.ok and bad.reason.startswith("changes code")


def _tests(ws: Path, body: str) -> CommandCheck:
    (ws / "tests").mkdir(exist_ok=True)
    (ws / "tests/test_m.py").write_text(
        "import sys, pathlib\nsys.path.insert(0, str(pathlib.Path(__file__).parents[1] / 'src'))\n"
        f"from m import describe\n\ndef test_describe():\n    {body}\n"
    )
    return CommandCheck(ws, [f"{sys.executable} -m pytest -q -p no:cacheprovider tests"], 60)


async def test_a_failing_test_command_blocks_a_candidate(ws: Path) -> None:
    check = _tests(ws, "assert describe('a', 2, None) == 'a x2 (unplaced)'")
    try:
        v = await verifier(ws, check)
        good = await v.verify(model(GOOD))
        assert good.ok and "passes the spec's commands" in good.passed
        assert "1 passed" in good.summary
        # valid, lint-clean, keeps every value and word, yet wrong: only the tests know
        wrong = '        return f"{count} x{name} (unplaced)"'
        bad = await v.verify(model(wrong))
        assert not bad.ok and bad.reason.startswith("tests fail") and "1 failed" in bad.reason
        # the user's file was never touched: candidates run in a scratch copy
        assert (ws / "src/m.py").read_text() == DOC
    finally:
        check.close()


async def test_tests_that_already_fail_cannot_judge(ws: Path) -> None:
    check = _tests(ws, "assert False")
    try:
        v = await (await verifier(ws, check)).verify(model(GOOD))
        assert v.ok and any("already fail" in s for s in v.skipped)
    finally:
        check.close()


async def test_a_command_that_hangs_or_is_missing_is_reported_not_run(ws: Path) -> None:
    hang = CommandCheck(ws, [f"{sys.executable} -c 'import time; time.sleep(60)'"], 0.5)
    missing = CommandCheck(ws, ["no-such-command-anywhere --flag"], 10)
    try:
        for check, words in ((hang, "did not finish within 0.5 s"), (missing, "could not start")):
            v = await (await verifier(ws, check)).verify(model(GOOD))
            assert v.ok, v.reason  # the checks that ran still judged it
            assert any(words in s for s in v.skipped), v.skipped
    finally:
        hang.close()
        missing.close()
