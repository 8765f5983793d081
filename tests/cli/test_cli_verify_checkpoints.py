"""`tether verify --export-checkpoint` and `--against FILE` on a real store."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from tether.cli.main import main
from tether.core.types import Actor, Outcome, utcnow
from tether.decisions import DecisionContent as Content
from tether.decisions import DecisionStore


def _fill(db: Path, rows: int) -> None:
    async def go() -> None:
        async with await DecisionStore.open(db, checkpoint_every=1000) as store:
            for i in range(rows):
                await store.append(
                    Content(
                        ts=utcnow(),
                        outcome=Outcome.ADAPTER_REFUSED,
                        actor=Actor.SYSTEM,
                        data={"version": f"v{i}"},
                    )
                )

    asyncio.run(go())


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "tether.db"
    _fill(path, 6)
    return path


def test_export_then_check_against(db: Path, tmp_path: Path, capsys) -> None:
    assert main(["verify", "--db", str(db), "--export-checkpoint"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert (exported["seq"], exported["reason"]) == (6, "manual")
    kept = tmp_path / "kept-elsewhere.json"
    kept.write_text(json.dumps(exported))
    assert main(["verify", "--db", str(db), "--against", str(kept)]) == 0
    assert "chain OK: 6 decisions" in capsys.readouterr().out


def test_a_log_cut_short_fails_against_the_kept_checkpoint(
    db: Path, tmp_path: Path, capsys
) -> None:
    assert main(["verify", "--db", str(db), "--export-checkpoint"]) == 0
    kept = tmp_path / "kept.json"
    kept.write_text(capsys.readouterr().out)
    # Whoever has the files cuts the log, re-seals nothing, and wipes the local checkpoints.
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM decisions WHERE seq > 4")
        last = conn.execute("SELECT hash FROM decisions WHERE seq = 4").fetchone()[0]
        conn.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", (last,))
        conn.execute("UPDATE meta SET value = '4' WHERE key = 'head_seq'")
    db.with_name(db.name + ".checkpoints").unlink()
    assert main(["verify", "--db", str(db), "--against", str(kept)]) == 1
    err = capsys.readouterr().err
    assert "chain BROKEN at row 5: truncated: truncated after row 4" in err
    assert "checkpoint #2 (row 6, manual" in err and f"in {kept}" in err
    assert "(missing: 5-6)" in err


def test_a_forged_checkpoint_is_named(db: Path, tmp_path: Path, capsys) -> None:
    assert main(["verify", "--db", str(db), "--export-checkpoint"]) == 0
    cp = json.loads(capsys.readouterr().out)
    cp["seq"] = 3  # moved without the key: the signature no longer holds
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(cp))
    assert main(["verify", "--db", str(db), "--against", str(forged), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "checkpoint" and "is not signed by this store's key" in out["detail"]


def test_against_a_file_that_is_no_checkpoint(db: Path, tmp_path: Path, capsys) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("remember to buy milk\n")
    assert main(["verify", "--db", str(db), "--against", str(junk)]) == 2
    err = capsys.readouterr().err
    assert "is not a Tether checkpoint" in err and "--export-checkpoint" in err
    assert main(["verify", "--db", str(db), "--against", str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
