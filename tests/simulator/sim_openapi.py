"""Didit's OpenAPI document as JSON Schemas a validator can use (``$ref`` resolved,
OpenAPI 3.0 ``nullable`` turned into JSON Schema ``null`` types)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import jsonschema

SPEC_PATH = Path(__file__).resolve().parents[2] / "docs" / "vendor" / "didit" / "openapi.json"
OUR_SCHEMAS = Path(__file__).resolve().parents[2] / "simulator" / "schemas"


@cache
def spec() -> dict:
    return json.loads(SPEC_PATH.read_text())


def _convert(node, root: dict, depth: int = 0):
    if depth > 40:
        raise RecursionError("schema nesting too deep")
    if isinstance(node, list):
        return [_convert(x, root, depth + 1) for x in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = root
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return _convert(target, root, depth + 1)
    out = {
        k: _convert(v, root, depth + 1)
        for k, v in node.items()
        if k not in ("example", "examples", "nullable", "description")
    }
    if node.get("nullable"):
        if "type" in out and isinstance(out["type"], str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def response(path: str, status: int, method: str = "get") -> dict:
    """The documented response object for (path, status)."""
    return spec()["paths"][path][method]["responses"][str(status)]


def response_schema(path: str, status: int) -> dict | None:
    content = response(path, status).get("content", {}).get("application/json", {})
    return _convert(content["schema"], spec()) if "schema" in content else None


def response_examples(path: str, status: int) -> list:
    content = response(path, status).get("content", {}).get("application/json", {})
    return [e["value"] for e in content.get("examples", {}).values()]


def our_schema(name: str) -> dict:
    return json.loads((OUR_SCHEMAS / name).read_text())


def validate(instance, schema: dict) -> None:
    jsonschema.validate(instance, schema, format_checker=jsonschema.FormatChecker())
