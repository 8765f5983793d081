"""Simulated users: each persona must judge the way its description says."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.personas import Persona, PersonaError, PersonaProposal, Verdict, load_persona

PERCENT = 'def greet(name):\n    return "Hello, %s" % name\n'
FSTRING = "def greet(name):\n    return f'Hello, {name}'\n"
FORMAT = "def greet(name):\n    return 'Hello, {}'.format(name)\n"
PLAIN = "    def area(self, width, height):\n        return width * height\n"
GOOGLE = (
    "    def area(self, width, height):\n"
    '        """Area of a rectangle.\n'
    "\n"
    "        Args:\n"
    "            width: The width.\n"
    "            height: The height.\n"
    '        """\n'
    "        return width * height\n"
)
SPHINX = (
    "    def area(self, width, height):\n"
    '        """Area of a rectangle.\n'
    "\n"
    "        :param width: The width.\n"
    "        :param height: The height.\n"
    '        """\n'
    "        return width * height\n"
)


def calm(name: str) -> Persona:
    """A built-in persona without its random 'not now' rejections."""
    persona = load_persona(name)
    persona.configure(noise=0.0)
    return persona


def proposal(
    original: str, proposed: str, path: str = "pkg/mod.py", index: int = 0, task: str = "improve"
) -> PersonaProposal:
    return PersonaProposal(
        path=path,
        original=original,
        proposed=proposed,
        task=task,
        class_key=f"{task}:python:code:1-3",
        index=index,
    )


def test_modernizer_wants_fstrings_not_the_reverse() -> None:
    judge = calm("modernizer")
    assert judge(proposal(PERCENT, FSTRING)).kind == "accept"
    back = judge(proposal(FSTRING, PERCENT))
    assert back.kind == "reject" and "f-string" in (back.reason or "")


def test_modernizer_corrects_format_calls_into_fstrings() -> None:
    verdict = calm("modernizer")(proposal(PERCENT, FORMAT))
    assert verdict.kind == "correct"
    assert verdict.text == "def greet(name):\n    return f'Hello, {name}'\n"


def test_modernizer_drifts_on_type_hints() -> None:
    persona = load_persona("modernizer")
    persona.configure(drift_at=10, noise=0.0)
    hinted = "def greet(name: str) -> str:\n    return f'Hello, {name}'\n"
    assert persona(proposal(FSTRING, hinted, index=9)).kind == "accept"
    late = persona(proposal(FSTRING, hinted, index=10))
    assert late.kind == "reject" and "changed my mind" in (late.reason or "")


def test_conservative_guards_tests_signatures_and_size() -> None:
    judge = calm("conservative")
    assert judge(proposal(PERCENT, FSTRING)).kind == "accept"
    assert judge(proposal(PERCENT, FSTRING, path="tests/test_mod.py")).kind == "reject"
    kw_only = "def greet(*, name):\n    return 'Hello, %s' % name\n"
    assert "signature" in (judge(proposal(PERCENT, kw_only)).reason or "")
    big = PERCENT + "".join(f"x{i} = {i}\n" for i in range(25))
    assert "too big" in (judge(proposal(PERCENT, big)).reason or "")
    hints_only = 'def greet(name: str) -> str:\n    return "Hello, %s" % name\n'
    assert judge(proposal(PERCENT, hints_only)).kind == "accept"  # callers see no change


def test_docstrings_persona_wants_google_style_only() -> None:
    judge = calm("docstrings")
    assert judge(proposal(PLAIN, GOOGLE)).kind == "accept"
    assert judge(proposal(PERCENT, FSTRING)).kind == "reject"
    fixed = judge(proposal(PLAIN, SPHINX))
    assert fixed.kind == "correct" and fixed.text is not None
    assert "Args:\n            width: The width." in fixed.text
    assert ":param" not in fixed.text
    assert judge(proposal(PLAIN, fixed.text)).kind == "accept"  # its own fix satisfies it


def test_any_persona_file_can_be_loaded(tmp_path: Path) -> None:
    path = tmp_path / "grumpy.py"
    path.write_text(
        "from bench.personas import Verdict\n"
        "NAME = 'grumpy'\n"
        "def judge(proposal):\n"
        "    return Verdict.reject('no')\n"
    )
    persona = load_persona(path)
    assert persona.name == "grumpy"
    assert persona(proposal(PERCENT, FSTRING)) == Verdict.reject("no")


def test_bad_persona_files_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    with pytest.raises(PersonaError, match="must define judge"):
        load_persona(empty)
    with pytest.raises(PersonaError, match="no such persona"):
        load_persona(tmp_path / "missing.py")
    wrong = tmp_path / "wrong.py"
    wrong.write_text("def judge(proposal):\n    return 'yes'\n")
    with pytest.raises(PersonaError, match="not a Verdict or a dict"):
        load_persona(wrong)(proposal(PERCENT, FSTRING))


def test_verdicts_need_their_details() -> None:
    with pytest.raises(ValueError, match="reason"):
        Verdict(kind="reject")
    with pytest.raises(ValueError, match="corrected text"):
        Verdict(kind="correct")


def test_pragmatist_wants_fixes_in_tasks_it_mostly_rejects() -> None:
    judge = calm("pragmatist")
    eq = "def f(x):\n    return x == None\n"
    fixed = "def f(x):\n    return x is None\n"
    wanted = judge(proposal(eq, fixed, task="compare-idiom").model_copy(update={"kind": "E711"}))
    assert wanted.kind == "accept"
    churn = judge(proposal(eq, fixed, task="compare-idiom").model_copy(update={"kind": "E713"}))
    assert churn.kind == "reject" and "E713" in (churn.reason or "")
    assert judge(proposal(PLAIN, GOOGLE).model_copy(update={"kind": "docstring"})).kind == "reject"


def test_dict_personas_answer_with_plain_data(tmp_path: Path) -> None:
    path = tmp_path / "plain.py"
    path.write_text(
        "def judge(p):\n"
        "    if p['kind'] == 'E711':\n"
        "        return {'decision': 'correct', 'corrected': p['proposed'] + '#'}\n"
        "    if p['index'] > 3:\n"
        "        return {'decision': 'reject', 'reason': 'tired'}\n"
        "    return {'decision': 'accept'}\n"
    )
    persona = load_persona(path)
    p = proposal(PERCENT, FSTRING)
    assert persona(p) == Verdict.accept()
    assert persona(p.model_copy(update={"index": 4})) == Verdict.reject("tired")
    fixed = persona(p.model_copy(update={"kind": "E711"}))
    assert fixed.kind == "correct" and fixed.text == FSTRING + "#"
    for body, message in (
        ("return {'decision': 'maybe'}", "use 'accept', 'reject' or 'correct'"),
        ("return {'decision': 'reject'}", "without a 'reason'"),
        ("return {'decision': 'correct'}", "without the 'corrected' text"),
    ):
        bad = tmp_path / "bad.py"
        bad.write_text(f"def judge(p):\n    {body}\n")
        with pytest.raises(PersonaError, match=message):
            load_persona(bad)(p)
