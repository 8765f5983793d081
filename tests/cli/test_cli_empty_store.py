"""Read-only commands on a workspace where nothing was decided yet: an empty, well-formed
answer, exit 0, and one line saying so and where the store will be (no store is created)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tether.cli.main import main
from tether.config import load_settings
from tether.paths import WorkspacePaths


@pytest.fixture
def fresh(tmp_path: Path, tether_home: Path) -> tuple[Path, Path]:
    ws = tmp_path / "new-project"
    ws.mkdir()
    return ws, WorkspacePaths(ws, load_settings(ws).data_root).db


@pytest.mark.parametrize(
    ("argv", "empty"),
    [
        (["history", "--json"], lambda body: body["items"] == [] and body["total"] == 0),
        (["profile", "--json"], lambda body: body["classes"] == []),
        (["adapters", "--json"], lambda body: body == [] or body.get("adapters") == []),
        (["verify", "--json"], lambda body: body["ok"] is True and body["rows"] == 0),
    ],
)
def test_json_views_are_empty_and_well_formed(
    fresh: tuple[Path, Path], capsys: pytest.CaptureFixture[str], argv: list[str], empty
) -> None:
    ws, db = fresh
    assert main([*argv, "--workspace", str(ws)]) == 0
    out, err = capsys.readouterr()
    assert empty(json.loads(out)), out
    assert "No decisions recorded for this workspace yet." in err
    assert str(db) in err and "error" not in err
    assert not db.exists()  # looking creates nothing


def test_table_views_and_export_say_so_in_one_line(
    fresh: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ws, db = fresh
    for argv in (["profile"], ["adapters"], ["verify"], ["history"]):
        assert main([*argv, "--workspace", str(ws)]) == 0, argv
        out, err = capsys.readouterr()
        assert "No decisions recorded for this workspace yet." in out + err, argv
    target = tmp_path / "pairs.jsonl"
    assert main(["export", "--format", "dpo", "-o", str(target), "--workspace", str(ws)]) == 0
    assert target.read_text(encoding="utf-8") == ""
    assert not db.exists()


def test_a_missing_explicit_db_is_still_an_error(
    fresh: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ws, _ = fresh
    assert main(["verify", "--db", str(tmp_path / "typo.db"), "--workspace", str(ws)]) == 2
    assert "no Tether store" in capsys.readouterr().err
