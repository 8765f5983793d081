"""The base of every message: snake_case in Python, camelCase on the wire."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

WIRE_CONFIG = ConfigDict(
    alias_generator=to_camel,
    validate_by_name=True,
    validate_by_alias=True,
    serialize_by_alias=True,
    # what the server sends always has every field, so the generated types need no `?`
    json_schema_serialization_defaults_required=True,
)


class Dumps:
    """`dump()`: the JSON-ready body with camelCase keys (mixed into every wire model)."""

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)  # type: ignore[attr-defined, no-any-return]


class Wire(Dumps, BaseModel):
    """Something the server sends: dumped with camelCase keys, JSON-ready."""

    model_config = WIRE_CONFIG


class Args(Wire):
    """Something an editor sends: unknown keys are an error (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid")
