"""`tether history` and `tether verify` on a real store built through the service."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from tether.cli.main import main
from tether.config import load_settings
from tether.core.diff import make_hunks
from tether.core.types import Position, Proposal, Range
from tether.paths import WorkspacePaths
from tether.service import TetherService

ORIGINAL = "def f(a, b):\n    return a+b\n"
PROPOSED = "def f(a: int, b: int) -> int:\n    return a + b\n"


def _proposal(path: str, task: str = "improve") -> Proposal:
    return Proposal(
        uri=f"file:///ws/{path}",
        path=path,
        range=Range.of(0, 0, 2, 0),
        task=task,
        class_key=f"{task}:python:code:1-3",
        original=ORIGINAL,
        proposed=PROPOSED,
        hunks=make_hunks(ORIGINAL, PROPOSED, Position(line=0, character=0)),
        rationale="Add type hints",
        model="replay:test",
    )


async def _populate(ws: Path) -> list[str]:
    """proposed/accepted, proposed/rejected (with a reason), proposed/expired, a pin."""
    service = await TetherService.open(ws, load_settings(ws))
    ids = []
    try:
        for path in ("src/a.py", "src/b.py", "docs/c.py"):
            p = _proposal(path)
            await service.store.add_proposal(p)
            ids.append(p.id)
        plan = await service.plan_accept(ids[0])
        await service.accept(plan)
        await service.reject(ids[1], "too clever")
        await service.expire(ids[2], "the document changed")
        await service.pin("improve:python:code:1-3", "always_ask")
        await service.idle()
    finally:
        await service.close()
    return ids


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


@pytest.fixture
def ids(ws: Path) -> list[str]:
    return asyncio.run(_populate(ws))


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_history_json_and_filters(ws: Path, ids: list[str], capsys) -> None:
    page = _json(capsys, "history", "-w", str(ws), "--json")
    assert page["total"] == 7
    assert [i["outcome"] for i in page["items"]] == [
        "pinned",
        "expired",
        "rejected",
        "accepted",
        "proposed",
        "proposed",
        "proposed",
    ]
    rejected = _json(capsys, "history", "-w", str(ws), "--json", "--outcome", "rejected")
    assert [(i["proposal_id"], i["reason"]) for i in rejected["items"]] == [(ids[1], "too clever")]
    verdicts = _json(capsys, "history", "-w", str(ws), "--json", "--outcome", "accepted,expired")
    assert {i["outcome"] for i in verdicts["items"]} == {"accepted", "expired"}
    src = _json(capsys, "history", "-w", str(ws), "--json", "--path", "src/")
    assert src["total"] == 4 and all(i["path"].startswith("src/") for i in src["items"])
    one = _json(capsys, "history", "-w", str(ws), "--json", "--proposal", ids[0])
    assert [i["outcome"] for i in one["items"]] == ["accepted", "proposed"]
    paged = _json(capsys, "history", "-w", str(ws), "--json", "--limit", "2", "--offset", "1")
    assert [i["seq"] for i in paged["items"]] == [6, 5] and paged["total"] == 7
    by_class = _json(
        capsys,
        "history",
        "-w",
        str(ws),
        "--json",
        "--class",
        "improve:python:code:1-3",
        "--actor",
        "user",
    )
    assert {i["outcome"] for i in by_class["items"]} == {"accepted", "rejected", "pinned"}
    future = _json(capsys, "history", "-w", str(ws), "--json", "--since", "2999-01-01")
    assert future == {"items": [], "total": 0, "offset": 0, "limit": 50}


def test_history_table(ws: Path, ids: list[str], capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one line per row, so words are not folded
    assert main(["history", "-w", str(ws), "--limit", "3"]) == 0
    out = capsys.readouterr().out
    for word in ("seq", "outcome", "pinned", "expired", "too clever", "pin always_ask"):
        assert word in out
    assert "rows 1-3 of 7" in out and "--offset 3 for more" in out


def test_history_without_a_store(ws: Path, capsys) -> None:
    assert main(["history", "-w", str(ws)]) == 0
    assert "No decisions recorded for this workspace yet" in capsys.readouterr().out
    assert _json(capsys, "history", "-w", str(ws), "--json")["total"] == 0
    assert main(["history", "--db", str(ws / "nope.db")]) == 1
    assert "no Tether store" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--limit", "0"], "must be between 1 and 1000"),
        (["--offset", "-1"], "must be 0 or more"),
        (["--outcome", "liked"], "unknown outcome liked"),
        (["--since", "last tuesday"], "not an ISO date or time"),
    ],
)
def test_history_rejects_bad_arguments(ws: Path, capsys, argv: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["history", "-w", str(ws), *argv])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_verify_ok(ws: Path, ids: list[str], capsys) -> None:
    assert main(["verify", "-w", str(ws)]) == 0
    assert "chain OK: 7 decisions" in capsys.readouterr().out
    result = _json(capsys, "verify", "-w", str(ws), "--json")
    assert result["ok"] is True and result["rows"] == 7


def _db(ws: Path, home: Path) -> Path:
    return WorkspacePaths(ws, home).db


def test_verify_names_an_edited_row(ws: Path, ids: list[str], tether_home: Path, capsys) -> None:
    with sqlite3.connect(_db(ws, tether_home)) as conn:
        conn.execute(
            "UPDATE decisions SET body = replace(body, 'too clever', 'fine') WHERE seq = 5"
        )
    assert main(["verify", "-w", str(ws)]) == 1
    err = capsys.readouterr().err
    assert "chain BROKEN at row 5: edited" in err


def test_verify_names_a_deleted_row(ws: Path, ids: list[str], tether_home: Path, capsys) -> None:
    with sqlite3.connect(_db(ws, tether_home)) as conn:
        conn.execute("DELETE FROM decisions WHERE seq = 3")
    assert main(["verify", "--db", str(_db(ws, tether_home))]) == 1
    assert "chain BROKEN at row 3: deleted: row(s) 3 were deleted" in capsys.readouterr().err


def test_verify_without_a_usable_store(ws: Path, tmp_path: Path, capsys) -> None:
    assert main(["verify", "--db", str(tmp_path / "nope.db"), "-w", str(ws)]) == 2
    assert "no Tether store" in capsys.readouterr().err
    junk = tmp_path / "junk.db"
    junk.write_text("not a database at all, just text", encoding="utf-8")
    assert main(["verify", "--db", str(junk)]) == 2
    assert "not a SQLite database" in capsys.readouterr().err
