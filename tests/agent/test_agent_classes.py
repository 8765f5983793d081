"""Decision classes and risk flags."""

from __future__ import annotations

from tether.agent.classes import classify, route_key, size_bucket
from tether.config import ClassSettings

CS = ClassSettings()


def test_key_parts_task_kind_language_area_size() -> None:
    key, flags = classify("src/a.py", "improve", "python", "x = 1\ny = 2", "x = 1\ny = 3", CS)
    assert key == "improve:any:python:code:1-3"  # no kind given
    assert flags == []
    key, _ = classify("src/a.py", "fix", "python", "a == None", "a is None", CS, kind="E711")
    assert key == "fix:E711:python:code:1-3"
    key, _ = classify("tests/test_a.py", "document", "python", "a = 1", "a = 2", CS)
    assert key.split(":")[3] == "tests"
    key, _ = classify("app/migrations/0002.py", "fix", "python", "a = 1", "a = 2", CS)
    assert key.split(":")[3] == "migrations"


def test_size_buckets() -> None:
    assert [size_bucket(n, [3, 15, 60]) for n in (1, 3, 4, 15, 16, 60, 61)] == [
        "1-3",
        "1-3",
        "4-15",
        "4-15",
        "16-60",
        "16-60",
        "61+",
    ]
    original = "\n".join(f"x{i} = {i}" for i in range(20))
    proposed = "\n".join(f"x{i} = {i + 1}" for i in range(20))
    key, _ = classify("a.py", "improve", "python", original, proposed, CS)
    assert key.endswith(":16-60")


def test_configurable_parts_and_risk_part() -> None:
    cs = ClassSettings(parts=["task", "risk"], areas={})
    key, flags = classify(
        "a.py", "improve", "python", "def f(a):\n    pass", "def f(a, b):\n    pass", cs
    )
    assert key == "improve:public_signature"
    assert flags == ["public_signature"]
    assert route_key("improve:E711:python:code:1-3", CS) == "improve:python:code"
    # a key recorded before the parts had the kind routes the same way
    assert route_key("improve:python:code:1-3", CS) == "improve:python:code"


def test_deletes_code() -> None:
    _, flags = classify("a.py", "improve", "python", "x = 1\ny = 2\nz = 3", "x = 1\nz = 3", CS)
    assert "deletes_code" in flags
    _, flags = classify("a.py", "improve", "python", "x = 1\ny = 2", "x = 1\n# y = 2", CS)
    assert "deletes_code" in flags
    _, flags = classify(
        "a.py", "document", "python", "def f():\n    pass", 'def f():\n    """Doc."""\n    pass', CS
    )
    assert flags == []


def test_touches_tests_by_path_or_content() -> None:
    _, flags = classify("tests/test_a.py", "improve", "python", "a = 1", "a = 2", CS)
    assert "touches_tests" in flags
    _, flags = classify(
        "src/a.py",
        "improve",
        "python",
        "def test_x():\n    assert 1",
        "def test_x():\n    assert True",
        CS,
    )
    assert "touches_tests" in flags


def test_public_signature_ignores_hints_and_private_functions() -> None:
    old = "def area(w, h=1):\n    return w * h"
    # type hints do not change how callers call it
    _, flags = classify(
        "a.py",
        "improve",
        "python",
        old,
        "def area(w: float, h: float = 1) -> float:\n    return w * h",
        CS,
    )
    assert "public_signature" not in flags
    for new in (
        "def area(w, h):\n    return w * h",  # default removed
        "def area(width, h=1):\n    return width * h",  # renamed parameter
        "def surface(w, h=1):\n    return w * h",
    ):  # renamed function
        _, flags = classify("a.py", "improve", "python", old, new, CS)
        assert "public_signature" in flags, new
    _, flags = classify(
        "a.py", "improve", "python", "def _h(a):\n    pass", "def _h(a, b):\n    pass", CS
    )
    assert "public_signature" not in flags


def test_signature_of_an_indented_method_fragment() -> None:
    old = "    def describe(self):\n        return self.name"
    new = "    def describe(self, verbose=False):\n        return self.name"
    _, flags = classify("a.py", "improve", "python", old, new, CS)
    assert "public_signature" in flags
    # a fragment that does not parse falls back to comparing def lines
    old = "    def add(self, item):\n        if x:\n"
    new = "    def add(self, item, count):\n        if x:\n"
    _, flags = classify("a.py", "improve", "python", old, new, CS)
    assert "public_signature" in flags
