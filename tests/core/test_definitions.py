"""Whether a selection already holds a whole definition (decides the advice after a failure)."""

from __future__ import annotations

from tether.core.definitions import selects_whole_definition
from tether.core.types import Range

SOURCE = (
    "import functools\n"
    "\n"
    "\n"
    "@functools.cache\n"
    "def total(values):\n"
    "    result = 0\n"
    "    for v in values:\n"
    "        result += v\n"
    "    return result\n"
)


def test_a_function_with_its_decorator_is_whole() -> None:
    assert selects_whole_definition(SOURCE, Range.of(3, 0, 8, 17))
    assert selects_whole_definition(SOURCE, Range.of(0, 0, 8, 17))  # the whole file


def test_part_of_a_function_or_a_missing_decorator_is_not() -> None:
    assert not selects_whole_definition(SOURCE, Range.of(5, 0, 7, 19))  # the loop
    assert not selects_whole_definition(SOURCE, Range.of(4, 0, 8, 17))  # without decorator
    assert not selects_whole_definition(SOURCE, Range.of(0, 0, 1, 0))  # the import


def test_text_that_does_not_parse_is_never_whole() -> None:
    assert not selects_whole_definition("def total(:\n    return 0\n", Range.of(0, 0, 1, 12))
