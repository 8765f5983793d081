"""A corpus of real-looking secrets: none reaches a teacher (litellm mocked at the edge) or
an export, and the teacher's answer gets the real values back locally."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.agent.secret_corpus import CORPUS, Snippet, leak_report, planted, through_teacher

from tether.core.redaction import redact


def test_the_corpus_is_broad() -> None:
    assert len(CORPUS) >= 30 and planted() >= 40
    assert len({s.name for s in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("snippet", CORPUS, ids=[s.name for s in CORPUS])
def test_each_snippet_is_redacted(snippet: Snippet) -> None:
    out, count = redact(snippet.text)
    assert count >= len(snippet.secrets)
    for value in snippet.secrets:
        assert value not in out, f"{snippet.name}: {value!r} left in {out!r}"


async def test_no_planted_secret_reaches_the_teacher_or_an_export() -> None:
    report = await leak_report()
    assert report["teacher_calls"] == len(CORPUS)  # the teacher really was asked each time
    assert report["export_rows"] > len(CORPUS)  # every format really was written
    assert (report["leaked_to_teacher"], report["leaked_to_export"]) == (0, 0), report


async def test_the_teachers_answer_gets_the_real_values_back(tmp_path: Path) -> None:
    snippet = next(s for s in CORPUS if s.name == "dotenv unquoted password")
    ws = tmp_path / "workspace"
    ws.mkdir()
    sent, result = await through_teacher(snippet, ws)
    assert "hunter2hunter2" not in sent and "[REDACTED_SECRET_1]" in sent
    [proposal] = result.proposals
    assert proposal.role == "teacher"
    assert "DB_PASSWORD=hunter2hunter2" in proposal.proposed
    assert "REDACTED" not in proposal.proposed
