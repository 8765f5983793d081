"""Agent.propose end to end with recorded answers (the replay provider): prompting, parsing,
boundaries, classes, routing and redaction, on a copy of the examples workspace."""

from __future__ import annotations

import ast
import asyncio
import json
import socket
from pathlib import Path

import pytest

from tether.agent import Agent, AgentRequest, AgentSpec, load_spec
from tether.agent.providers.replay import ReplayProvider
from tether.config import Settings
from tether.core.diff import apply_hunks
from tether.core.response_format import render_completion
from tether.core.text import replace_range
from tether.core.types import Range


def model_spec(ws: Path) -> AgentSpec:
    """The workspace's spec with ruff off: these tests are about the model's answers, which
    ruff's own fixes would otherwise replace (tests/agent/test_agent_tools.py has ruff on)."""
    spec = load_spec(ws)
    return spec.model_copy(update={"tools": spec.tools.model_copy(update={"ruff": False})})


SETTINGS_PY = "src/settings.py"
IMPROVED = "    if value is None:\n        return 5"


def replay_file(tmp_path: Path, *entries: dict[str, object], name: str = "replay.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    return path


def request(
    ws: Path,
    path: str = SETTINGS_PY,
    needle: str = "if value == None",
    lines: int = 2,
    task: str = "improve",
    text: str | None = None,
) -> AgentRequest:
    text = text if text is not None else (ws / path).read_text()
    rows = text.split("\n")
    i = next(n for n, row in enumerate(rows) if needle in row)
    return AgentRequest(
        uri=f"file://{ws / path}",
        path=path,
        text=text,
        version=3,
        range=Range.of(i, 4 if lines > 1 else 0, i + lines - 1, 3),
        task=task,
    )


def agent_for(ws: Path, tmp_path: Path, *entries: dict[str, object], **settings: object) -> Agent:
    settings = {"candidates": 1, **settings}  # one recorded answer per request
    s = Settings(model=f"replay:{replay_file(tmp_path, *entries)}", **settings)  # type: ignore[arg-type]
    return Agent(s, model_spec(ws), None, ws)


async def test_replay_end_to_end_gives_a_checked_proposal(workspace: Path, tmp_path: Path) -> None:
    answer = render_completion(IMPROVED, "python", "Compare with `is None`.")
    agent = agent_for(workspace, tmp_path, {"completion": answer})
    req = request(workspace)
    result = await agent.propose(req)
    assert result.failures == []
    [p] = result.proposals
    # widened to whole lines
    assert p.range.start.character == 0 and p.original == "    if value == None:\n        return 5"
    assert p.proposed == IMPROVED
    assert p.rationale_headline == "Compare with `is None`."
    assert p.completion == answer and p.candidates[0].completion == answer
    assert (p.role, p.model, p.adapter_version, p.version) == (
        "student",
        "replay:replay.jsonl",
        None,
        3,
    )
    assert p.class_key == f"improve:{p.kind or 'any'}:python:code:1-3" and p.risk == []
    # the hunks applied to the document give a file that still parses
    assert apply_hunks(p.original, p.hunks) == IMPROVED
    new_doc = replace_range(req.text, p.range, apply_hunks(p.original, p.hunks))
    ast.parse(new_doc)
    assert "if value is None:" in new_doc
    # the prompt holds the purpose, the task's instruction, the path and the code
    spec = load_spec(workspace)
    assert p.prompt.startswith("<|im_start|>system\n" + spec.purpose.splitlines()[0])
    assert spec.task("improve").instruction in p.prompt  # type: ignore[union-attr]
    assert "File: src/settings.py (python)" in p.prompt
    assert "```python\n    if value == None:\n        return 5\n```" in p.prompt
    assert 'value = settings.get("low_stock_threshold")' in p.prompt  # context before
    assert p.prompt.endswith("<|im_start|>assistant\n")
    assert p.meta["always_ask"] is False


async def test_fix_is_always_ask_and_diagnostics_reach_the_prompt(
    workspace: Path, tmp_path: Path
) -> None:
    agent = agent_for(
        workspace, tmp_path, {"task": "fix", "completion": render_completion(IMPROVED)}
    )
    req = request(workspace, task="fix")
    req.diagnostics = [
        {
            "message": "comparison to None should be 'if cond is None:'",  # type: ignore[list-item]
            "code": "E711",
            "range": req.range.model_dump(),
        }
    ]
    [p] = (await agent.propose(req)).proposals
    assert p.meta["always_ask"] is True
    assert "comparison to None should be 'if cond is None:' (E711)" in p.prompt


BAD_ANSWERS = {
    "prose": ("Just use is None.", "no code block"),
    "unclosed": ("```python\n    if value is None:\n", "truncated"),
    "unchanged": ("```python\n    if value == None:\n        return 5\n```", "unchanged"),
    "two blocks": (f"```python\n{IMPROVED}\n```\n```python\n{IMPROVED}\n```", "2 code blocks"),
    "empty": ("", "empty output"),
    "syntax": ("```python\n    if value is None\n        return 5\n```", "broken edit"),
}


@pytest.mark.parametrize("answer,reason", BAD_ANSWERS.values(), ids=list(BAD_ANSWERS))
async def test_bad_answers_give_no_proposal_and_a_reason(
    workspace: Path, tmp_path: Path, answer: str, reason: str
) -> None:
    result = await agent_for(workspace, tmp_path, {"completion": answer}).propose(
        request(workspace)
    )
    assert result.proposals == []
    assert len(result.failures) == 1 and reason in result.failures[0]


async def test_candidates_are_parsed_each_and_deduplicated(workspace: Path, tmp_path: Path) -> None:
    other = "    if value is None:\n        return DEFAULT_THRESHOLD"
    answers = [
        render_completion(IMPROVED),
        "no idea",
        render_completion(IMPROVED),
        render_completion(other),
    ]
    agent = agent_for(workspace, tmp_path, {"completions": answers}, candidates=4)
    result = await agent.propose(request(workspace))
    [p] = result.proposals
    assert [c.text for c in p.candidates] == [IMPROVED, other]
    assert result.failures == [
        "student candidate 2: no code block: the model answered in prose only"
    ]


async def test_boundaries_are_hard(workspace: Path, tmp_path: Path) -> None:
    spec_path = workspace / ".tether" / "agent.md"
    spec_path.write_text(
        spec_path.read_text()
        .replace('never_touch: ["tests/fixtures/**"]', 'never_touch: ["src/settings.py"]')
        .replace("max_lines: 60", "max_lines: 1")
    )
    entries = [{"completion": render_completion(IMPROVED)}]
    agent = agent_for(workspace, tmp_path, *entries)
    replay = agent.student
    assert isinstance(replay, ReplayProvider)

    result = await agent.propose(request(workspace))
    assert result.proposals == [] and "never_touch" in result.failures[0]
    assert replay.requests == []  # the model was never even asked

    text = (workspace / "src/inventory.py").read_text()
    for bad in ("../outside.py", "/etc/passwd", "src/../../outside.py"):
        req = request(workspace, path="src/inventory.py", needle="def describe", text=text)
        req.path = bad
        result = await agent.propose(req)
        assert result.proposals == [] and "outside the workspace" in result.failures[0], bad
    (workspace / "src" / "link.py").symlink_to(tmp_path / "elsewhere.py")
    req = request(workspace, path="src/inventory.py", needle="def describe", text=text)
    req.path = "src/link.py"
    assert "outside the workspace" in (await agent.propose(req)).failures[0]
    assert replay.requests == []

    # two changed lines against max_lines: 1
    two = "        if self.location is None:\n            return f'{self.name} x{self.quantity}'"
    agent = agent_for(workspace, tmp_path, {"completion": render_completion(two)})
    req = request(workspace, path="src/inventory.py", needle="if self.location == None", text=text)
    result = await agent.propose(req)
    assert result.proposals == []
    assert "changes 2 lines; the spec allows at most 1 (boundaries.max_lines)" in result.failures[0]


async def test_unknown_task_and_bad_range(workspace: Path, tmp_path: Path) -> None:
    agent = agent_for(workspace, tmp_path, {"completion": render_completion(IMPROVED)})
    result = await agent.propose(request(workspace, task="refactor"))
    assert "unknown task 'refactor'" in result.failures[0]
    req = request(workspace)
    req.range = Range.of(500, 0, 501, 0)
    assert "not in the document" in (await agent.propose(req)).failures[0]


SECRET_TEXT = """def connect():
    key = "sk-abcdefghijklmnopqrstuvwxyz123456"
    return Client(key, "%s" % "ops@example.com")
"""
TEACHER_FIXED = (
    '    key = "[REDACTED_API_KEY_1]"\n    return Client(key, f"{\'[REDACTED_EMAIL_1]\'}")'
)


async def test_teacher_sees_no_secrets_and_its_answer_gets_them_back(
    workspace: Path, tmp_path: Path
) -> None:
    (workspace / "src" / "client.py").write_text(SECRET_TEXT)
    student = replay_file(tmp_path, {"completion": "unused"}, name="student.jsonl")
    teacher = replay_file(
        tmp_path,
        {"completion": "Use an f-string.\n" + render_completion(TEACHER_FIXED)},
        name="teacher.jsonl",
    )
    settings = Settings(model=f"replay:{student}", teacher=f"replay:{teacher}")
    agent = Agent(settings, model_spec(workspace), None, workspace)
    result = await agent.propose(request(workspace, path="src/client.py", needle="key = "))
    [p] = result.proposals
    assert (p.role, p.model) == ("teacher", "replay:teacher.jsonl")
    assert "student has 0 decisions" in result.route.reason  # type: ignore[union-attr]
    assert p.rationale_headline == "Use an f-string."
    sent = json.dumps(agent.teacher.requests)  # type: ignore[union-attr]
    assert "sk-abcdefghij" not in sent and "ops@example.com" not in sent
    assert "[REDACTED_API_KEY_1]" in sent
    assert p.meta["redactions"] == 2
    # the edit the user would apply holds the real values, never a placeholder
    assert 'key = "sk-abcdefghijklmnopqrstuvwxyz123456"' in p.proposed
    assert "REDACTED" not in p.proposed and "REDACTED" not in p.completion
    assert agent.student.requests == []  # type: ignore[attr-defined]


async def test_never_send_paths_stay_local(workspace: Path, tmp_path: Path) -> None:
    (workspace / "shop.cfg").write_text("currency = USD\nthreshold == None\n")
    student = replay_file(
        tmp_path, {"completion": render_completion("currency = EUR", "ini")}, name="s.jsonl"
    )
    teacher = replay_file(tmp_path, {"completion": "never"}, name="t.jsonl")
    agent = Agent(
        Settings(model=f"replay:{student}", teacher=f"replay:{teacher}", shadow=True),
        model_spec(workspace),
        None,
        workspace,
    )
    req = request(workspace, path="shop.cfg", needle="currency", lines=1)
    req.language = "ini"
    result = await agent.propose(req)
    [p] = result.proposals
    assert p.role == "student" and len(p.candidates) == 1
    assert agent.teacher.requests == []  # type: ignore[union-attr]


async def test_shadow_mode_offers_both_answers_as_candidates(
    workspace: Path, tmp_path: Path
) -> None:
    student = replay_file(tmp_path, {"completion": render_completion(IMPROVED)}, name="s.jsonl")
    other = "    if value is None:\n        return 7"
    teacher = replay_file(
        tmp_path, {"completion": "Teacher.\n" + render_completion(other)}, name="t.jsonl"
    )
    agent = Agent(
        Settings(model=f"replay:{student}", teacher=f"replay:{teacher}", shadow=True),
        model_spec(workspace),
        None,
        workspace,
    )
    [p] = (await agent.propose(request(workspace))).proposals
    assert [c.text for c in p.candidates] == [other, IMPROVED]  # the routed role first
    assert [c["role"] for c in p.meta["candidates"]] == ["teacher", "student"]
    assert p.role == "teacher" and p.rationale_headline == "Teacher."
    # the training prompt is the student's own rendering (what DPO trains)
    assert p.prompt == agent.student.render_prompt(agent.student.requests[0])  # type: ignore[attr-defined]


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_teacher_that_is_down_falls_back_to_the_student(
    workspace: Path, tmp_path: Path
) -> None:
    student = replay_file(tmp_path, {"completion": render_completion(IMPROVED)}, name="s.jsonl")
    settings = Settings(
        model=f"replay:{student}",
        teacher="ollama:qwen2.5-coder",
        ollama_host=f"http://127.0.0.1:{unused_port()}",
        request_timeout=5,
    )
    agent = Agent(settings, model_spec(workspace), None, workspace)
    result = await agent.propose(request(workspace))
    [p] = result.proposals
    assert p.role == "student"
    assert "teacher failed: Ollama is not running at http://127.0.0.1:" in result.failures[0]


async def test_cancelled_before_the_model_answers(workspace: Path, tmp_path: Path) -> None:
    agent = agent_for(workspace, tmp_path, {"completion": render_completion(IMPROVED)})
    cancel = asyncio.Event()
    cancel.set()
    result = await agent.propose(request(workspace), cancel=cancel)
    assert result.proposals == [] and result.failures == ["cancelled"]
