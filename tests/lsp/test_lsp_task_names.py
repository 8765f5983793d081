"""`tether.propose` over a real LSP connection takes a task in any case or by its title
(what the code action shows), and the proposal carries the task's own name."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from tether.core.types import Range

from .conftest import SOURCE, Launch, store_path

GREET = Range.of(0, 0, 3, 18)


async def test_titles_and_any_case_name_the_task(
    launch: Launch, ws: Path, tether_home: Path
) -> None:
    editor = await launch()
    uri = editor.open("app.py", SOURCE)
    [pid] = await editor.propose(uri, GREET, task="Tether: Improve")
    with sqlite3.connect(store_path(ws, tether_home)) as conn:
        body = conn.execute("SELECT body FROM proposals WHERE id = ?", (pid,)).fetchone()[0]
    assert json.loads(body)["task"] == "improve"
    with pytest.raises(JsonRpcException, match="unknown task 'Polish'"):
        await editor.propose(uri, GREET, task="Polish")
