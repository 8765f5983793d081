"""Memory on a real store: exemplars and retrieval, reflections, insight rules, and what
reaches the agent's next prompt."""

from __future__ import annotations

import json
from pathlib import Path

from tether.agent import Agent, AgentRequest, load_spec
from tether.agent.providers.replay import ReplayProvider
from tether.config import Settings
from tether.core.diff import make_hunks
from tether.core.response_format import render_completion
from tether.core.types import Actor, Outcome, Proposal, Range
from tether.decisions import DecisionRecord, DecisionStore
from tether.memory import InsightOp, Memory
from tether.service.components import teacher_generate

CLASS = "improve:python:code:1-3"


async def propose(
    store: DecisionStore,
    original: str,
    proposed: str,
    *,
    path: str = "src/a.py",
    class_key: str = CLASS,
    task: str = "improve",
) -> Proposal:
    p = Proposal(
        uri=f"file:///w/{path}",
        path=path,
        range=Range.of(3, 0, 3 + original.count("\n"), 9),
        task=task,
        class_key=class_key,
        original=original,
        proposed=proposed,
        hunks=make_hunks(original, proposed, Range.of(3, 0, 3, 0).start),
    )
    await store.add_proposal(p)
    return p


async def decide(
    store: DecisionStore, memory: Memory, p: Proposal, outcome: Outcome, **kw: object
) -> DecisionRecord:
    record = await store.record(
        outcome,
        actor=kw.pop("actor", Actor.USER),  # type: ignore[arg-type]
        proposal_id=p.id,
        **kw,
    )  # type: ignore[arg-type]
    await memory.observe(record, p)
    return record


async def test_retrieval_finds_the_relevant_exemplar(store: DecisionStore) -> None:
    memory = Memory(store)
    cases = [
        ('msg = "%s items" % count', 'msg = f"{count} items"'),
        ("path = os.path.join(base, name)", "path = Path(base) / name"),
        ("if value == None:\n    return 5", "if value is None:\n    return 5"),
        ("total = total + price", "total += price"),
    ]
    for original, proposed in cases:
        await decide(store, memory, await propose(store, original, proposed), Outcome.ACCEPTED)
    ctx = await memory.context(
        CLASS, "improve src/b.py\n    if item == None:\n        continue", k=2
    )
    assert ctx.exemplars[0].original == "if value == None:\n    return 5"
    assert ctx.exemplars[0].final == "if value is None:\n    return 5"
    ctx = await memory.context(CLASS, "folder = os.path.join(root, 'data')", k=1)
    assert [e.original for e in ctx.exemplars] == ["path = os.path.join(base, name)"]
    # nothing in common: nothing retrieved rather than noise
    assert (await memory.context(CLASS, "zzz qqq", k=3)).exemplars == []


async def test_same_class_wins_a_tie(store: DecisionStore) -> None:
    memory = Memory(store)
    for key in ("document:python:tests:1-3", CLASS):
        p = await propose(store, "x = compute(a)", "x = compute(a)  # why", class_key=key)
        await decide(store, memory, p, Outcome.ACCEPTED)
    ctx = await memory.context("improve:python:code", "x = compute(b)", k=2)
    assert ctx.exemplars[0].class_key == CLASS


async def test_policy_decisions_teach_nothing_and_partial_accepts_keep_the_partial(
    store: DecisionStore,
) -> None:
    memory = Memory(store)
    p = await propose(store, "a = 1\nb = 2\nc = 3", "a = 10\nb = 2\nc = 30")
    record = await store.record(Outcome.AUTO_APPLIED, actor=Actor.POLICY, proposal_id=p.id)
    assert await memory.observe(record, p) == []
    assert await memory.items() == []
    p = await propose(store, "a = 1\nb = 2\nc = 3", "a = 10\nb = 2\nc = 30")
    assert len(p.hunks) == 2
    await decide(store, memory, p, Outcome.ACCEPTED, hunks=[1])
    [ex] = await memory.exemplars()
    assert ex.final == "a = 1\nb = 2\nc = 30"


async def test_rejections_with_reasons_become_reflections_then_rules(store: DecisionStore) -> None:
    memory = Memory(store)
    p = await propose(store, "path = os.path.join(a, b)", "path = Path(a) / b")
    await decide(store, memory, p, Outcome.REJECTED, reason="keep os.path in this legacy module")
    ctx = await memory.context("improve:python:code", "os.path.join(x, y)")
    [reflection] = ctx.reflections
    assert reflection.source == "diff"
    assert "rejected" in reflection.text and "keep os.path in this legacy module" in reflection.text
    assert "`path = os.path.join(a, b)` -> `path = Path(a) / b`" in reflection.text
    # one reason is a candidate rule, not yet a rule the prompt follows
    [weak] = await memory.rules(include_weak=True)
    assert (weak.text, weak.votes) == ("Keep os.path in this legacy module.", 1)
    assert ctx.rules == []
    # the rejected proposal is remembered with its reason
    assert ctx.exemplars[0].decision == "rejected"
    assert ctx.exemplars[0].feedback == "keep os.path in this legacy module"

    p = await propose(store, "p = os.path.dirname(f)", "p = Path(f).parent")
    await decide(store, memory, p, Outcome.REJECTED, reason="Keep os.path in legacy module please")
    ctx = await memory.context(CLASS, "os.path")
    assert [(r.text, r.votes) for r in ctx.rules] == [("Keep os.path in this legacy module.", 2)]
    assert len(ctx.reflections) == 2
    # reflections stay with their class
    assert (await memory.context("document:python:code", "os.path")).reflections == []


async def test_corrections_and_rewrites_are_remembered_with_the_users_text(
    store: DecisionStore,
) -> None:
    memory = Memory(store)
    p = await propose(store, 'msg = "%s" % name', 'msg = "{}".format(name)')
    await decide(store, memory, p, Outcome.ACCEPTED)
    await decide(store, memory, p, Outcome.CORRECTED, after='msg = f"{name}"')
    [ex] = await memory.exemplars()  # one exemplar per proposal, updated
    assert (ex.decision, ex.final) == ("corrected", 'msg = f"{name}"')
    [r] = (await memory.context(CLASS, "msg")).reflections
    assert '`msg = "{}".format(name)` -> `msg = f"{name}"`' in r.text

    p = await propose(store, "x = y == None", "x = y is None and True")
    await decide(store, memory, p, Outcome.REJECTED)
    assert (await memory.context(CLASS, "zzz")).reflections == [r]  # no reason: no lesson
    await decide(store, memory, p, Outcome.REWRITTEN, after="x = y is None")
    exemplars = {e.original: e for e in await memory.exemplars()}
    assert exemplars["x = y == None"].final == "x = y is None"
    assert exemplars["x = y == None"].good


async def test_insight_operations_and_votes(store: DecisionStore) -> None:
    memory = Memory(store, max_rules=3)
    a = await memory.apply(InsightOp(op="ADD", text="Prefer f-strings."))
    assert a is not None and a.votes == 1
    a = await memory.apply(InsightOp(op="AGREE", rule_id=a.id))
    assert a is not None and a.votes == 2
    a = await memory.apply(InsightOp(op="EDIT", rule_id=a.id, text="Prefer f-strings to %."))
    assert a is not None and (a.votes, a.body["text"]) == (3, "Prefer f-strings to %.")
    a = await memory.apply(InsightOp(op="REMOVE", rule_id=a.id))  # a decision disagreed
    assert a is not None and a.votes == 2
    user = await memory.add_rule("Never touch the billing module.")
    assert user.votes == 2  # the user's own rule counts at once
    assert {r.text for r in await memory.rules()} == {
        "Prefer f-strings to %.",
        "Never touch the billing module.",
    }
    for i in range(3):
        await memory.apply(InsightOp(op="ADD", text=f"Weak rule {i}."))
    texts = {r.text for r in await memory.rules(include_weak=True)}
    assert len(texts) == 3 and "Never touch the billing module." in texts  # weakest dropped
    edited = await memory.edit(user.id[:8], "Never edit billing/.")
    assert edited.body["text"] == "Never edit billing/."
    await memory.remove(user.id)
    assert "Never edit billing/." not in {r.text for r in await memory.rules(include_weak=True)}


async def test_a_teacher_writes_reflections_and_picks_the_rule_operation(
    store: DecisionStore, tmp_path: Path
) -> None:
    f = tmp_path / "teacher.jsonl"
    f.write_text(
        json.dumps(
            {"completion": "- Keep logging calls lazy: pass arguments, not pre-formatted strings."}
        )
        + "\n"
        + json.dumps({"completion": "ADD: Pass logging arguments separately."})
        + "\n"
    )
    teacher = ReplayProvider(f)
    memory = Memory(store, generate=teacher_generate(teacher))
    original = 'log.info("user %s" % "ann@example.com")'
    p = await propose(store, original, "log.info(f\"user {'ann@example.com'}\")")
    await decide(store, memory, p, Outcome.REJECTED, reason="logging should stay lazy")
    [r] = (await memory.context(CLASS, "log.info")).reflections
    assert r.source == "teacher"
    assert r.text == "Keep logging calls lazy: pass arguments, not pre-formatted strings."
    [rule] = await memory.rules(include_weak=True)
    assert rule.text == "Pass logging arguments separately."
    assert "ann@example.com" not in json.dumps(teacher.requests)  # redacted before sending


async def test_memory_reaches_the_next_prompt(
    workspace: Path, tmp_path: Path, store: DecisionStore
) -> None:
    answer = render_completion("    if value is None:\n        return 5")
    f = tmp_path / "r.jsonl"
    f.write_text(json.dumps({"completion": answer}) + "\n")
    memory = Memory(store)
    agent = Agent(Settings(model=f"replay:{f}"), load_spec(workspace), memory, workspace)
    text = (workspace / "src" / "settings.py").read_text()
    line = text.split("\n").index("    if value == None:")
    req = AgentRequest(
        uri="file:///w/src/settings.py",
        path="src/settings.py",
        text=text,
        range=Range.of(line, 0, line + 1, 16),
        task="improve",
    )
    first = (await agent.propose(req)).proposals[0]
    assert "def label(name, count):" in first.prompt  # the built-in example, no memory yet
    await store.add_proposal(first)
    await decide(store, memory, first, Outcome.REJECTED, reason="keep == None in settings.py")
    for _ in range(2):
        p = await propose(
            store,
            "if item == None:\n    pass",
            "if item is None:\n    pass",
            class_key=first.class_key,
        )
        await decide(store, memory, p, Outcome.REJECTED, reason="keep == None in settings.py")
    p = await propose(store, 'x = "%d" % n', 'x = f"{n}"', class_key=first.class_key)
    await decide(store, memory, p, Outcome.ACCEPTED)

    second = (await agent.propose(req)).proposals[0]
    assert "Rules this user agreed on:\n- Keep == None in settings.py." in second.prompt
    assert "Lessons from this user's earlier decisions:" in second.prompt
    assert "Changes this user rejected:" in second.prompt
    # the user's accepted edit is now the demonstration instead of the built-in one
    assert 'x = f"{n}"' in second.prompt and "def label(name, count):" not in second.prompt
    assert isinstance(agent.student, ReplayProvider)
