"""Compact JSON-schema building for Didit records.

Didit documents several shapes per endpoint and adds fields over time, so every field
except the primary and replication keys is nullable, nested objects accept anything,
and keys we do not know yet are kept in `extra_fields` instead of being dropped.
"""

from __future__ import annotations

from typing import Any

EXTRA_FIELDS = "extra_fields"

_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": ["string", "null"]},
    "datetime": {"type": ["string", "null"], "format": "date-time"},
    "date": {"type": ["string", "null"], "format": "date"},
    "integer": {"type": ["integer", "null"]},
    "number": {"type": ["number", "null"]},
    "boolean": {"type": ["boolean", "null"]},
    "object": {"type": ["object", "null"]},
    "array": {"type": ["array", "null"]},
    "strings": {"type": ["array", "null"], "items": {"type": "string"}},
}


def record_schema(
    fields: dict[str, str],
    *,
    required: tuple[str, ...] = (),
    extra_fields: bool = True,
) -> dict[str, Any]:
    """Build a schema from `{name: kind}`; `required` fields are non-null."""
    properties: dict[str, Any] = {}
    for name, kind in fields.items():
        spec = dict(_TYPES[kind])
        if name in required:
            spec["type"] = [t for t in spec["type"] if t != "null"]
        properties[name] = spec
    if extra_fields:
        properties[EXTRA_FIELDS] = {
            "type": ["object", "null"],
            "description": "Fields Didit sent that this tap version does not know yet.",
        }
    return {"type": "object", "properties": properties, "required": list(required)}
