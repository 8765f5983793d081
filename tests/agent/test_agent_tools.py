"""The agent with its tools: ruff's fixes as proposals, the model on located spots, what
happens when ruff is missing, hangs or crashes, and verifier pairs as a training signal.

Real ruff, a real SQLite store; the model is the replay provider (recorded answers).
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tether.agent import Agent, AgentRequest, load_spec
from tether.config import Settings, TrainingSettings
from tether.core.messages import no_proposal
from tether.core.response_format import render_completion
from tether.core.types import Range
from tether.decisions import DecisionStore
from tether.decisions.signals import load_signals
from tether.profile.store import rebuild
from tether.training.dataset import build_training_data

SRC = (
    "def describe(name, count, location):\n"
    "    if location == None:\n"
    '        return "%s x%d (unplaced)" % (name, count)\n'
    "    return name\n"
    "\n"
    "\n"
    "def is_empty(items):\n"
    "    if items == None:\n"
    "        return True\n"
    "    return len(items) == 0\n"
)
DESCRIBE = Range.of(0, 0, 3, 15)
IS_EMPTY = Range.of(6, 0, 9, 26)
SPOT_GOOD = render_completion('        return f"{name} x{count} (unplaced)"', "python", "f-string.")
SPOT_BAD = render_completion('        return f"{name}"', "python", "Shorter.")


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "src/items.py").write_text(SRC)
    return root


def agent(ws: Path, tmp_path: Path, answers: list[str] | None = None, **settings: object) -> Agent:
    model = f"replay:{tmp_path / 'missing.jsonl'}"  # any call to the model fails loudly
    if answers is not None:
        replay = tmp_path / "replay.jsonl"
        replay.write_text(json.dumps({"completions": answers}) + "\n")
        model = f"replay:{replay}"
    s = Settings(model=model, candidates=max(1, len(answers or [])), **settings)  # type: ignore[arg-type]
    return Agent(s, load_spec(ws), None, ws)


def request(ws: Path, rng: Range) -> AgentRequest:
    return AgentRequest(
        uri=(ws / "src/items.py").as_uri(), path="src/items.py", text=SRC, range=rng, task="improve"
    )


async def test_a_ruff_fix_is_a_proposal_without_asking_the_model(ws: Path, tmp_path: Path) -> None:
    result = await agent(ws, tmp_path).propose(request(ws, IS_EMPTY))
    [p] = result.proposals
    assert p.proposed == SRC.split("\n\n\n")[1].rstrip("\n").replace("== None", "is None")
    assert (p.kind, p.role, p.candidates[0].source) == ("E711", "tool", "ruff:E711")
    assert p.rationale_headline.startswith("E711: ")
    assert "Checked: parses, keeps names and parameters, adds no ruff finding." in p.rationale
    assert result.tried == "1 ruff fix" and result.prompts == {}  # no model was asked
    # what training learns: the whole-selection prompt and the fix in the answer format
    assert "Selected code, lines 7-10" in p.prompt and p.completion.endswith("```")


async def test_the_model_fixes_a_spot_and_joins_ruffs_fix(ws: Path, tmp_path: Path) -> None:
    result = await agent(ws, tmp_path, [SPOT_GOOD, SPOT_BAD]).propose(request(ws, DESCRIBE))
    [p] = result.proposals
    lines = p.proposed.split("\n")
    assert lines[1] == "    if location is None:"  # ruff's fix
    assert lines[2] == '        return f"{name} x{count} (unplaced)"'  # the model's spot
    assert [c.source for c in p.candidates][:2] == ["ruff:E711+student", "ruff:E711"]
    assert [h.index for h in p.hunks] == [0]  # adjacent lines: one hunk
    # the refused answer is said, in words, and paired with the verified one
    assert any("drops behaviour" in f for f in result.failures)
    [pair] = p.meta["verifier_pairs"]
    assert (pair["chosen"], pair["rejected"]) == (SPOT_GOOD, SPOT_BAD)
    assert "Problem found by ruff: UP031" in pair["prompt"]
    assert result.verifier_pairs == 1 and result.tried == "1 ruff fix and 2 model answers on 1 spot"


def script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


WHOLE = render_completion(
    "def is_empty(items):\n    if items is None:\n        return True\n    return not items",
    "python",
    "Use `is None` and truthiness.",
)


@pytest.mark.parametrize(
    "ruff,why",
    [
        ("missing", "ruff could not be started"),
        ("hangs", "did not answer within 0.5 s"),
        ("crashes", "ruff failed (exit 2: boom)"),
    ],
)
async def test_ruff_missing_hanging_or_crashing_still_gives_a_checked_proposal(
    ws: Path, tmp_path: Path, ruff: str, why: str
) -> None:
    exe = {
        "missing": str(tmp_path / "no-ruff-here"),
        "hangs": script(tmp_path, "ruff-hangs", "exec sleep 30"),
        "crashes": script(tmp_path, "ruff-crashes", "echo boom >&2; exit 2"),
    }[ruff]
    a = agent(ws, tmp_path, [WHOLE], ruff=exe, ruff_timeout=0.5)
    [p] = (await a.propose(request(ws, IS_EMPTY))).proposals
    assert p.proposed.endswith("return not items")  # the model answered the whole selection
    assert "parses" in p.meta["checks"] and "adds no ruff finding" not in p.meta["checks"]
    assert any(why in s for s in p.meta["skipped_checks"]), p.meta["skipped_checks"]
    assert "Not checked (adds no ruff finding)" in p.rationale


async def test_verifier_pairs_are_training_data_of_their_own_and_never_evidence(
    ws: Path, tmp_path: Path
) -> None:
    [p] = (
        await agent(ws, tmp_path, [SPOT_GOOD, SPOT_BAD]).propose(request(ws, DESCRIBE))
    ).proposals
    store = await DecisionStore.open(tmp_path / "tether.db")
    try:
        await store.add_proposal(p)
        signals = await load_signals(store)
        [pair] = signals.dpo
        assert (pair.source, pair.chosen, pair.rejected) == ("verifier", SPOT_GOOD, SPOT_BAD)
        assert signals.labels == 0  # no user label: nothing for the scheduler to count
        head = await store.head()
        full = build_training_data(signals, TrainingSettings(verifier_weight=1.0), head=head)
        assert [x.source for x in full.pairs_train] == ["verifier"] and not full.pairs_heldout
        assert full.verifier_pairs == 1
        none = build_training_data(signals, TrainingSettings(verifier_weight=0.0), head=head)
        assert none.pairs_train == [] and none.verifier_available == 1
        profile = await rebuild(store, Settings())
        assert all(c.n == 0 for c in profile.classes())  # a tool's label is not the user's
    finally:
        await store.close()


async def test_a_provider_that_knows_the_kind_labels_the_candidate(
    ws: Path, tmp_path: Path
) -> None:
    """Recorded answers carry their kind (benchmark streams); the agent keeps it."""
    replay = tmp_path / "kinds.jsonl"
    replay.write_text(json.dumps({"completion": WHOLE, "kind": "SIM103"}) + "\n")
    s = Settings(model=f"replay:{replay}", candidates=1)
    spec = load_spec(ws)
    spec = spec.model_copy(update={"tools": spec.tools.model_copy(update={"ruff": False})})
    [p] = (await Agent(s, spec, None, ws).propose(request(ws, IS_EMPTY))).proposals
    assert p.kind == "SIM103" and p.candidates[0].kind == "SIM103"


async def test_a_missing_docstring_is_the_models_sentence_in_a_built_docstring(
    ws: Path, tmp_path: Path
) -> None:
    answers = ["Tell whether there are no items.", "```python\ndef is_empty(items):\n```"]
    req = request(ws, IS_EMPTY)
    req.task = "document"
    result = await agent(ws, tmp_path, answers).propose(req)
    [p] = result.proposals
    assert p.proposed.split("\n")[:2] == [
        "def is_empty(items):",
        '    """Tell whether there are no items."""',
    ]
    assert p.kind == "docstring" and "changes only docs and comments" in p.meta["checks"]
    [pair] = p.meta["verifier_pairs"]  # the sentence beats the answer that gave none
    assert (pair["chosen"], pair["rejected"]) == tuple(answers)


async def test_a_docstring_naming_what_the_file_lacks_is_refused_and_loses_to_one_that_does_not(
    ws: Path, tmp_path: Path
) -> None:
    off_topic = "Create a new file named `data_path.py` and add the following."
    grounded = "Tell whether `items` is None or empty."
    req = request(ws, IS_EMPTY)
    req.task = "document"
    [p] = (await agent(ws, tmp_path, [off_topic, grounded]).propose(req)).proposals
    assert '"""Tell whether `items` is None or empty."""' in p.proposed
    assert "data_path" not in "".join(c.text for c in p.candidates)
    [pair] = p.meta["verifier_pairs"]
    assert (pair["chosen"], pair["rejected"]) == (grounded, off_topic)


async def test_only_off_topic_docstrings_say_so_in_words(ws: Path, tmp_path: Path) -> None:
    req = request(ws, IS_EMPTY)
    req.task = "document"
    answers = ["Call load_config() before parse_rows.", "Write `report.csv` to disk."]
    result = await agent(ws, tmp_path, answers).propose(req)
    assert result.proposals == []
    assert all("not about this code" in f for f in result.failures)
    text = no_proposal(result.failures, result.tried).text()
    assert "about something the file does not have" in text and "load_config" not in text


async def test_a_docstring_sentence_cut_off_by_the_token_budget_is_refused(
    ws: Path, tmp_path: Path
) -> None:
    replay = tmp_path / "cut.jsonl"
    entries = [
        {
            "completion": "Tell whether the items are none and add the follow",
            "finish_reason": "length",
        },
        {"completion": "Tell whether there are no items.", "finish_reason": "length"},
    ]
    replay.write_text("".join(json.dumps(e) + "\n" for e in entries))
    s = Settings(model=f"replay:{replay}", candidates=2)
    req = request(ws, IS_EMPTY)
    req.task = "document"
    [p] = (await Agent(s, load_spec(ws), None, ws).propose(req)).proposals
    assert '"""Tell whether there are no items."""' in p.proposed
    assert [c.text.count("follow") for c in p.candidates] == [0]
    [pair] = p.meta["verifier_pairs"]
    assert pair["rejected"].endswith("add the follow")


async def test_a_methods_missing_docstring_is_its_own_spot(ws: Path, tmp_path: Path) -> None:
    source = "class Box:\n    def size(self):\n        return 1\n"
    (ws / "src/box.py").write_text(source)
    req = AgentRequest(
        uri=(ws / "src/box.py").as_uri(),
        path="src/box.py",
        text=source,
        range=Range.of(1, 0, 2, 16),
        task="document",
    )
    [p] = (await agent(ws, tmp_path, ["Return the size of the box."]).propose(req)).proposals
    assert (
        p.proposed
        == '    def size(self):\n        """Return the size of the box."""\n        return 1'
    )
