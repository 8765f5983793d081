"""`tether profile` on a real store, and the SVG drawing it shares with the side panel."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tether.cli.main import main
from tether.config import PolicySettings
from tether.decisions import DecisionStore
from tether.profile import Profile, profile_svg, rebuild

SVG = "{http://www.w3.org/2000/svg}"


def make_store(path: Path, play, steps, pins: dict[str, str] | None = None) -> Profile:
    async def build() -> Profile:
        async with await DecisionStore.open(path) as store:
            await play(store, steps)
            for key, mode in (pins or {}).items():
                await store.set_pin(key, mode)
            return await rebuild(store, PolicySettings())

    return asyncio.run(build())


def latest_snapshot(path: Path):
    async def read():
        async with await DecisionStore.open(path, create=False) as store:
            return await store.latest_profile_snapshot()

    return asyncio.run(read())


STEPS = (
    [("fix:python:src:small", "accept")] * 40
    + [("docs:markdown:docs:medium", "reject")] * 25
    + [("refactor:python:src:large", a) for a in ["accept", "reject", "correct"] * 4]
)


def test_profile_json_reports_every_class(tmp_path: Path, play, capsys, workspace: Path) -> None:
    db = tmp_path / "tether.db"
    expected = make_store(db, play, STEPS, pins={"refactor:python:src:large": "always_ask"})
    assert main(["profile", "--json", "--db", str(db), "--workspace", str(workspace)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["decisions"] == 77 and out["head_seq"] == expected.last_seq
    rows = {c["class_key"]: c for c in out["classes"]}
    assert set(rows) == {s.class_key for s in expected.classes()}
    for s in expected.classes():
        row = rows[s.class_key]
        for field in ("n", "accepts", "rejects", "corrections", "mean", "lower", "upper", "ema"):
            assert row[field] == getattr(s, field)
    assert rows["fix:python:src:small"]["policy"] == "auto"
    assert rows["docs:markdown:docs:medium"]["policy"] == "quiet"
    refactor = rows["refactor:python:src:large"]
    assert (refactor["policy"], refactor["pin"]) == ("ask", "always_ask")
    assert refactor["corrections"] == 4
    assert "pinned always ask" in refactor["reason"] and "n=12" in refactor["reason"]
    assert out["prior"]["method"] == "pooled" and out["auto_threshold"] == 0.85
    assert latest_snapshot(db) is None  # viewing does not write


def test_profile_rebuild_checks_and_saves(tmp_path: Path, play, capsys, workspace: Path) -> None:
    db = tmp_path / "tether.db"
    expected = make_store(db, play, STEPS)
    args = ["profile", "--rebuild", "--db", str(db), "--workspace", str(workspace)]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rebuild"] == {
        "rows": expected.last_seq,
        "matches_incremental": True,
        "snapshot_saved": True,
    }
    snap = latest_snapshot(db)
    assert snap is not None and snap.body == expected.to_snapshot()
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "identical to the incremental state" in text
    assert "fix:python:src:small" in text and "auto: approval" in text


def test_profile_plot_writes_an_svg(tmp_path: Path, play, capsys, workspace: Path) -> None:
    db = tmp_path / "tether.db"
    make_store(db, play, STEPS)
    plot = tmp_path / "profile.svg"
    assert main(["profile", "--db", str(db), "-w", str(workspace), "--plot", str(plot)]) == 0
    assert f"plot written to {plot}" in capsys.readouterr().out
    root = ET.fromstring(plot.read_text())
    modes = {g.get("data-class"): g.get("data-mode") for g in root.iter(f"{SVG}g")}
    assert modes == {
        "fix:python:src:small": "auto",
        "docs:markdown:docs:medium": "quiet",
        "refactor:python:src:large": "ask",
    }


def test_profile_without_a_store_fails_clearly(tmp_path: Path, capsys) -> None:
    assert main(["profile", "--db", str(tmp_path / "none.db"), "-w", str(tmp_path)]) == 1
    assert "no Tether store" in capsys.readouterr().err


def test_profile_on_an_empty_store(tmp_path: Path, capsys) -> None:
    db = tmp_path / "tether.db"
    asyncio.run(_create(db))
    assert main(["profile", "--db", str(db), "-w", str(tmp_path)]) == 0
    assert "no decisions yet" in capsys.readouterr().out


async def _create(path: Path) -> None:
    await (await DecisionStore.open(path)).close()


@pytest.mark.parametrize("empty", [True, False])
def test_svg_is_well_formed_and_escapes_class_names(feed, empty: bool) -> None:
    profile = Profile(PolicySettings())
    key = 'fix:<script>&"x"'
    if not empty:
        feed(profile)(key, ["accept"] * 50)
        feed(profile)("b", ["reject", "accept"])
    svg = profile_svg(profile, pins={} if empty else {"b": "always_ask"})
    root = ET.fromstring(svg)  # raises on anything not well-formed
    rows = [g for g in root.iter(f"{SVG}g") if g.get("class") == "class-row"]
    if empty:
        assert rows == [] and "no decisions yet" in svg
    else:
        assert [g.get("data-class") for g in rows] == [key, "b"]
        assert [g.get("data-mode") for g in rows] == ["auto", "ask"]
        assert "pinned always_ask" in ET.tostring(rows[1], encoding="unicode")
        assert "<script>" not in svg


def test_pinned_classes_not_yet_seen_are_listed() -> None:
    profile = Profile(PolicySettings())
    root = ET.fromstring(profile_svg(profile, pins={"new:class": "never_auto"}))
    rows = [g for g in root.iter(f"{SVG}g") if g.get("class") == "class-row"]
    assert [(g.get("data-class"), g.get("data-mode")) for g in rows] == [("new:class", "ask")]
