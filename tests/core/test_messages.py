"""The message catalogue: raw verifier reasons become words, with actions, and no prefix."""

from __future__ import annotations

from tether.core import messages
from tether.service.errors import AgentFailed


def test_no_proposal_says_why_in_words_and_offers_actions() -> None:
    msg = messages.no_proposal(
        [
            "student: out of range: the block repeats code from outside the selection",
            "student candidate 2: out of range: 31 lines for a 3-line selection",
            "teacher: no code block: the model answered in prose only",
        ]
    )
    text = msg.text()
    assert text.startswith("No suggestion for this selection: the model's answer went beyond")
    assert "(2 of 3 answers)" in text and "gave no code" in text
    assert "Select the whole function" in text
    assert "Tether:" not in text and "out of range" not in text  # no internal text
    ids = [a.id for a in msg.actions]
    assert ids[:2] == [messages.ACTION_SELECT_FUNCTION, messages.ACTION_RETRY]
    data = msg.data()
    assert data["actions"][0] == {
        "id": "selectEnclosingFunction",
        "title": "Select enclosing function",
    }
    assert data["detail"][0].startswith("student: out of range")


def test_provider_failures_point_at_settings() -> None:
    msg = messages.no_proposal(["student failed: ollama is not running at localhost:11434"])
    assert "could not be reached" in msg.why
    assert messages.ACTION_OPEN_SETTINGS in [a.id for a in msg.actions]


def test_unknown_reason_is_still_a_sentence_and_empty_list_has_one() -> None:
    assert messages.explain_failure("student: something new") == (
        "the model's answer did not pass Tether's checks"
    )
    assert messages.no_proposal([]).why == "the model found nothing to change"


def test_exceptions_by_kind() -> None:
    class Stale(Exception):
        kind = "stale"

    msg = messages.for_exception(Stale("app.py is at version 3, not 2; ask again"))
    assert msg.text() == (
        "The file changed while Tether was working: app.py is at version 3, not 2; ask again. "
        "Ask again on the current text."
    )
    assert [a.id for a in msg.actions] == [messages.ACTION_RETRY]
    internal = messages.for_exception(KeyError("x"))
    assert internal.code == "internal" and "KeyError" in internal.why


def test_verifier_reasons_read_as_words() -> None:
    msg = messages.no_proposal(
        ["student on E711 at line 4: changes a signature: it renames, removes or re-shapes"]
    )
    assert msg.why == "the change would rename, remove or re-shape a definition"
    assert messages.explain_failure("student: tests fail: 2 failed") == (
        "the project's tests fail with the change"
    )


def test_a_whole_function_selection_is_not_told_to_select_the_whole_function() -> None:
    failures = ["student: out of range: the block repeats code from outside the selection"]
    partial = messages.no_proposal(failures)
    whole = messages.no_proposal(failures, whole_selection=True)
    assert partial.fix.startswith("Select the whole function")
    assert whole.why == partial.why
    assert "Select the whole function" not in whole.text()
    assert whole.fix == "Try again, or say in your own words what you want."
    ids = [a.id for a in whole.actions]
    assert messages.ACTION_SELECT_FUNCTION not in ids
    assert ids[:2] == [messages.ACTION_RETRY, messages.ACTION_REPHRASE]


def test_exceptions_carry_whether_the_selection_was_whole() -> None:
    failures = ["student: broken edit: line 2: invalid syntax"]
    exc = AgentFailed.nothing_survived(failures, "2 model answers", whole_selection=True)
    msg = messages.for_exception(exc)
    assert "(tried 2 model answers)" in msg.what and msg.text() == str(exc)
    assert messages.ACTION_SELECT_FUNCTION not in [a.id for a in msg.actions]
