"""The parser against the ways small models get the answer format wrong."""

from __future__ import annotations

import pytest

from tether.agent.parsing import Parsed, ParseFailure, parse_completion
from tether.core.response_format import render_completion

ORIGINAL = "    if value == None:\n        return 5"
BEFORE = 'def threshold(settings):\n    value = settings.get("low_stock_threshold")'
AFTER = "    return int(value)\n\n\ndef data_path(settings, base):\n    return os.path.join(base)"
DOC = f"{BEFORE}\n{ORIGINAL}\n{AFTER}\n"
START = len(BEFORE) + 1
END = START + len(ORIGINAL)
GOOD = "    if value is None:\n        return 5"


def parse(output: str, original: str = ORIGINAL) -> Parsed | ParseFailure:
    return parse_completion(
        output, original, before=BEFORE, after=AFTER, document=DOC, doc_start=START, doc_end=END
    )


def test_the_format_we_ask_for_parses_with_its_rationale() -> None:
    out = parse(render_completion(GOOD, "python", "Compare with `is None`."))
    assert isinstance(out, Parsed)
    assert out.text == GOOD
    assert out.rationale == "Compare with `is None`."


def test_lost_indentation_is_restored() -> None:
    out = parse("```python\nif value is None:\n    return 5\n```")
    assert isinstance(out, Parsed)
    assert out.text == GOOD


def test_tilde_fence_and_text_after_the_block() -> None:
    out = parse(f"~~~python\n{GOOD}\n~~~\nThat is all.")
    assert isinstance(out, Parsed) and out.text == GOOD


def test_rationale_is_the_first_paragraph_only() -> None:
    out = parse(f"Use is.\nIt is idiomatic.\n\nSecond paragraph.\n```python\n{GOOD}\n```")
    assert isinstance(out, Parsed)
    assert out.rationale == "Use is. It is idiomatic."


def test_crlf_documents_keep_crlf() -> None:
    original = ORIGINAL.replace("\n", "\r\n")
    out = parse_completion(f"```python\n{GOOD}\n```", original)
    assert isinstance(out, Parsed)
    assert out.text == GOOD.replace("\n", "\r\n")


MALFORMED = {
    "empty": ("", "empty output"),
    "whitespace": ("   \n\n ", "empty output"),
    "prose only": ("You should compare with `is None` instead of `== None`.", "no code block"),
    "unclosed fence": (f"Here:\n```python\n{GOOD}\n", "truncated"),
    "fence only": ("```python", "truncated"),
    "second block unclosed": (f"```python\n{GOOD}\n```\n```python\nx = 1\n", "truncated"),
    "two blocks": (f"```python\n{GOOD}\n```\nor\n```python\n{GOOD}\n```", "2 code blocks"),
    "unchanged": (f"```python\n{ORIGINAL}\n```", "unchanged"),
    "unchanged but trailing spaces": (
        "```python\n" + "\n".join(ln + "  " for ln in ORIGINAL.splitlines()) + "\n```",
        "unchanged",
    ),
    "empty block": ("```python\n```", "empty code block"),
    "blank block": ("```python\n   \n```", "empty code block"),
    "echoes the code after": (
        "```python\n    if value is None:\n        return 5\n    return int(value)\n\n\n"
        "def data_path(settings, base):\n    return os.path.join(base)\n```",
        "out of range",
    ),
    "echoes code from before, out of order": (
        f'```python\n    value = settings.get("low_stock_threshold")\ndef threshold(settings):\n'
        f"{GOOD}\n```",
        "out of range",
    ),
    "whole other file": (
        "```python\n" + "\n".join(f"x{i} = {i}" for i in range(40)) + "\n```",
        "out of range",
    ),
    "breaks the syntax": ("```python\n    if value is None\n        return 5\n```", "broken edit"),
}


@pytest.mark.parametrize("output,reason", MALFORMED.values(), ids=list(MALFORMED))
def test_malformed_outputs_give_a_reason_not_an_edit(output: str, reason: str) -> None:
    out = parse(output)
    assert isinstance(out, ParseFailure), out
    assert reason in out.reason


def test_a_broken_original_does_not_block_edits() -> None:
    """When the file already does not parse, the syntax check cannot judge the edit."""
    doc = "def f(:\n    x = 1\n"
    out = parse_completion(
        "```python\n    x = 2\n```", "    x = 1", document=doc, doc_start=8, doc_end=17
    )
    assert isinstance(out, Parsed) and out.text == "    x = 2"


def test_context_echoed_right_around_the_answer_is_trimmed() -> None:
    """The lines just above (and below) the selection, copied in order, are not the edit."""
    above = '```python\ndef threshold(settings):\n    value = settings.get("low_stock_threshold")\n'
    out = parse(f"{above}{GOOD}\n    return int(value)\n```")
    assert isinstance(out, Parsed) and out.text == GOOD


def test_a_copied_def_header_from_the_context_is_out_of_range() -> None:
    out = parse("```python\ndef threshold(settings):\n    return 5\n```")
    assert isinstance(out, ParseFailure) and "out of range" in out.reason


def test_documentation_tasks_may_not_change_code() -> None:
    original = "def area(r):\n    return 3.14 * r * r"
    documented = (
        'def area(r):\n    """Area of a circle."""\n    # pi, roughly\n    return 3.14 * r * r'
    )
    ok = parse_completion(f"```python\n{documented}\n```", original, keeps_code=True)
    assert isinstance(ok, Parsed)
    changed = 'def area(r):\n    """Area of a circle."""\n    return math.pi * r * r'
    out = parse_completion(f"```python\n{changed}\n```", original, keeps_code=True)
    assert isinstance(out, ParseFailure) and "changes code" in out.reason
    assert isinstance(parse_completion(f"```python\n{changed}\n```", original), Parsed)


def test_statements_answered_with_a_new_function_are_off_task() -> None:
    out = parse("```python\ndef is_none(value):\n    return value is None\n```")
    assert isinstance(out, ParseFailure) and "off task" in out.reason
