"""The agent spec: defaults, both file forms, and errors that name the key and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tether.agent.spec import SpecError, load_spec, parse_agent_md
from tether.agent.starter import STARTER_AGENT_MD
from tether.cli.main import main


def write(ws: Path, text: str, name: str = ".tether/agent.md") -> None:
    (ws / name).parent.mkdir(parents=True, exist_ok=True)
    (ws / name).write_text(text)


def test_default_spec_when_there_is_none(tmp_path: Path) -> None:
    spec = load_spec(tmp_path)
    assert spec.source == "default"
    assert [(t.name, t.title) for t in spec.tasks] == [
        ("improve", "Tether: Improve"),
        ("document", "Tether: Document"),
        ("fix", "Tether: Fix this diagnostic"),
    ]
    assert spec.task("fix").when == ["diagnostic"]  # type: ignore[union-attr]


def test_agent_md_front_matter_and_purpose(tmp_path: Path) -> None:
    write(
        tmp_path,
        """---
name: tidy
tasks:
  improve:
    instruction: Use f-strings.
  tests:
    title: "Tether: Write tests"
    instruction: Write a pytest test.
    when: command
tools:
  commands: ["pytest -q"]
boundaries:
  never_touch: ["migrations/**"]
  max_lines: 12
  never_send: ["*.cfg"]
  always_ask: [tests]
---
Keep the inventory tool tidy.
""",
    )
    spec = load_spec(tmp_path)
    assert spec.name == "tidy"
    assert spec.purpose == "Keep the inventory tool tidy."
    assert [t.name for t in spec.tasks] == ["improve", "tests"]
    assert spec.task("improve").title == "Tether: Improve"  # type: ignore[union-attr]
    assert spec.task("tests").when == ["command"]  # type: ignore[union-attr]
    b = spec.boundaries
    assert b.max_lines == 12 and b.always_ask == ["tests"]
    assert b.touches_forbidden("app/migrations/0001_init.py") is False
    assert b.touches_forbidden("migrations/0001_init.py") is True
    assert not b.may_send("conf/shop.cfg")
    assert not b.may_send("deploy/.env")  # always, whatever the spec says
    assert b.may_send("src/app.py")
    assert spec.tools.allows("pytest -q tests/test_x.py")
    assert not spec.tools.allows("rm -rf /")
    assert not spec.tools.allows("pytest")  # the entry allows "pytest -q …", not less


def test_agent_table_in_tether_toml(tmp_path: Path) -> None:
    write(
        tmp_path,
        'model = "embedded:smollm2"\n[agent]\nname = "t"\npurpose = "Be brief."\n'
        '[agent.tasks.fix]\ninstruction = "Fix it."\nwhen = ["diagnostic"]\n'
        "[agent.boundaries]\nmax_lines = 5\n",
        "tether.toml",
    )
    spec = load_spec(tmp_path)
    assert spec.purpose == "Be brief."
    assert [t.name for t in spec.tasks] == ["fix"]
    assert spec.boundaries.max_lines == 5


SPEC_ERRORS = {
    "wrong type": (
        "---\nname: x\nboundaries:\n  never_touch: []\n  max_lines: many\n---\n",
        "boundaries.max_lines",
        5,
        "integer",
    ),
    "unknown key": (
        "---\nname: x\nboundaries:\n  never_tuch: [a]\n---\n",
        "boundaries.never_tuch",
        4,
        "unknown key",
    ),
    "missing instruction": (
        "---\ntasks:\n  improve:\n    title: T\n---\n",
        "tasks.improve.instruction",
        3,
        "Field required",
    ),
    "bad when": (
        "---\ntasks:\n  improve:\n    instruction: x\n    when: [sometimes]\n---\n",
        "tasks.improve.when.0",
        5,
        "selection",
    ),
    "always_ask names no task": (
        "---\nboundaries:\n  always_ask: [fix, nope]\n---\n",
        "boundaries.always_ask.1",
        3,
        "no task named 'nope'",
    ),
    "bad regex": (
        "---\nboundaries:\n\n  redact: ['(unclosed']\n---\n",
        "boundaries.redact",
        4,
        "regular expression",
    ),
    "bad task name": (
        "---\ntasks:\n  Improve It:\n    instruction: x\n---\n",
        "tasks",
        2,
        "lower-case",
    ),
    "max_lines zero": (
        "---\nboundaries:\n  max_lines: 0\n---\n",
        "boundaries.max_lines",
        3,
        "greater than or equal to 1",
    ),
}


@pytest.mark.parametrize("text,key,line,words", SPEC_ERRORS.values(), ids=list(SPEC_ERRORS))
def test_spec_errors_name_key_and_line(
    tmp_path: Path, text: str, key: str, line: int, words: str
) -> None:
    write(tmp_path, text)
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path)
    err = info.value
    assert (err.key, err.line) == (key, line)
    assert words in str(err)
    assert f"agent.md:{line}: {key}:" in str(err)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    write(tmp_path, "---\nname: x\ntasks: [unclosed\n---\n")
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path)
    assert info.value.line == 3
    assert "not valid YAML" in str(info.value)


def test_unclosed_front_matter(tmp_path: Path) -> None:
    write(tmp_path, "---\nname: x\n")
    with pytest.raises(SpecError, match="not closed"):
        load_spec(tmp_path)


def test_toml_errors_name_key_and_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        '[agent]\nname = "t"\n\n[agent.boundaries]\nnever_touch = []\nmax_lines = "lots"\n',
        "tether.toml",
    )
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path)
    assert (info.value.key, info.value.line) == ("agent.boundaries.max_lines", 6)


def test_spec_defined_twice_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "---\nname: a\n---\n")
    write(tmp_path, '[agent]\nname = "b"\n', "tether.toml")
    with pytest.raises(SpecError, match="defined twice"):
        load_spec(tmp_path)


def test_markdown_without_front_matter_is_all_purpose(tmp_path: Path) -> None:
    write(tmp_path, "Only prose: be careful with the billing code.\n")
    spec = load_spec(tmp_path)
    assert spec.purpose.startswith("Only prose")
    assert [t.name for t in spec.tasks] == ["improve", "document", "fix"]


def test_tether_init_writes_a_valid_commented_starter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--workspace", str(tmp_path)]) == 0
    text = (tmp_path / ".tether" / "agent.md").read_text()
    assert text == STARTER_AGENT_MD
    assert text.count("\n#") >= 5  # commented
    spec = load_spec(tmp_path)
    assert [t.name for t in spec.tasks] == ["improve", "document", "fix"]
    # a second init refuses to overwrite the user's spec…
    (tmp_path / ".tether" / "agent.md").write_text("---\nname: mine\n---\n")
    assert main(["init", "--workspace", str(tmp_path)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert load_spec(tmp_path).name == "mine"
    # …unless forced
    assert main(["init", "--workspace", str(tmp_path), "--force"]) == 0
    assert load_spec(tmp_path).name == "my-agent"


def test_examples_workspace_spec_loads() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    spec = load_spec(examples)
    assert [t.name for t in spec.tasks] == ["improve", "document", "fix"]
    assert spec.boundaries.always_ask == ["fix"]
    assert parse_agent_md(STARTER_AGENT_MD).name == "my-agent"
