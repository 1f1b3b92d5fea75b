"""Decode a response body once per page, fast (msgspec), and share it between readers."""

from __future__ import annotations

from typing import Any

import msgspec
import requests

_decoder = msgspec.json.Decoder()


def json_body(response: requests.Response) -> Any:
    """The decoded JSON body; cached on the response so paginator and parser share it."""
    cached = response.__dict__.get("_didit_body", _decoder)
    if cached is _decoder:
        cached = _decoder.decode(response.content) if response.content else None
        response.__dict__["_didit_body"] = cached
    return cached
