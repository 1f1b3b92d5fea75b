"""Django REST Framework's envelopes, built as bytes around pre-serialised JSON bodies."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import orjson

COUNT_CAP = 100  # Didit caps `count` at 100 on users, businesses, cases, deliveries, KYB rows


class BadParamsError(Exception):
    """Field-keyed 400 body, as DRF validation errors look."""

    def __init__(self, errors: dict) -> None:
        super().__init__(str(errors))
        self.errors = errors


def int_param(query: dict[str, str], name: str, default: int, minimum: int) -> int:
    raw = query.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParamsError({name: ["A valid integer is required."]}) from None
    if value < minimum:
        raise BadParamsError({name: [f"Ensure this value is greater than or equal to {minimum}."]})
    return value


def page_url(base: str, path: str, query: dict[str, str], **changes: int | str | None) -> str:
    """Absolute URL of ``path`` with ``query`` plus ``changes`` (None removes a parameter)."""
    merged = dict(query)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    qs = urlencode(merged)
    return f"{base}{path}?{qs}" if qs else f"{base}{path}"


def offset_links(
    base: str, path: str, query: dict[str, str], limit: int, offset: int, has_more: bool
) -> tuple[str | None, str | None]:
    nxt = page_url(base, path, query, limit=limit, offset=offset + limit) if has_more else None
    if offset <= 0:
        prev = None
    elif offset - limit <= 0:
        prev = page_url(base, path, query, limit=limit, offset=None)
    else:
        prev = page_url(base, path, query, limit=limit, offset=offset - limit)
    return nxt, prev


def envelope(count: int | None, nxt: str | None, prev: str | None, bodies: list[bytes]) -> bytes:
    head = b'{"count":%d,' % count if count is not None else b"{"
    return (
        head
        + b'"next":'
        + orjson.dumps(nxt)
        + b',"previous":'
        + orjson.dumps(prev)
        + b',"results":['
        + b",".join(bodies)
        + b"]}"
    )


def encode_cursor(direction: str, ts: str, uid: str) -> str:
    return base64.urlsafe_b64encode(f"{direction}|{ts}|{uid}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        direction, ts, uid = raw.split("|")
    except (ValueError, UnicodeDecodeError):
        raise BadParamsError({"cursor": ["Invalid cursor."]}) from None
    if direction not in ("n", "p"):
        raise BadParamsError({"cursor": ["Invalid cursor."]})
    return direction, ts, uid
