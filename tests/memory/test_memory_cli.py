"""`tether memory`: list, add, edit and remove, against a real store file."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tether.cli.main import main
from tether.decisions import DecisionStore
from tether.memory import InsightOp, Memory


async def seed(db: Path) -> tuple[str, str]:
    store = await DecisionStore.open(db)
    try:
        memory = Memory(store)
        rule = await memory.apply(InsightOp(op="ADD", text="Prefer pathlib."))
        assert rule is not None
        rule = await memory.apply(InsightOp(op="AGREE", rule_id=rule.id))
        other = await memory.add_rule("Keep functions short.")
        assert rule is not None
        return rule.id, other.id
    finally:
        await store.close()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["memory", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_memory_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "tether.db"
    code, out, _ = run(capsys, "--db", str(db), "--json")
    assert (code, json.loads(out)) == (0, [])  # no store yet: nothing remembered
    rule_id, other_id = asyncio.run(seed(db))

    code, out, _ = run(capsys, "list", "--db", str(db))
    assert code == 0
    assert f"{rule_id}  insight votes=2  Prefer pathlib." in out

    code, out, _ = run(
        capsys, "edit", rule_id[:7], "Prefer pathlib to os.path.", "--db", str(db), "--json"
    )
    item = json.loads(out)["item"]
    assert (code, item["id"], item["body"]["text"]) == (0, rule_id, "Prefer pathlib to os.path.")

    code, out, _ = run(capsys, "add", "Use is None.", "--db", str(db), "--json")
    added = json.loads(out)["item"]["id"]

    code, out, _ = run(capsys, "remove", other_id, "--db", str(db))
    assert code == 0 and out.startswith(f"removed insight {other_id}")

    code, out, _ = run(capsys, "list", "--kind", "insight", "--json", "--db", str(db))
    rows = json.loads(out)
    assert sorted(r["id"] for r in rows) == sorted([rule_id, added])
    assert {r["body"]["text"] for r in rows} == {"Prefer pathlib to os.path.", "Use is None."}

    code, _, err = run(capsys, "remove", "in-", "--db", str(db))
    assert code == 1 and "no memory item 'in-'" in err  # too short to be a prefix
    code, _, err = run(capsys, "edit", "nope1234", "x", "--db", str(db))
    assert code == 1 and "no memory item" in err
    code, _, err = run(capsys, "remove", "zzzz", "--db", str(tmp_path / "none.db"))
    assert code == 1 and "no Tether store" in err
