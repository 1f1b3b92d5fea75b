"""RFC 6238 TOTP (SHA-1, 30 s, 6 digits), written out because pyotp >= 2.10 refuses secrets
shorter than 112 bits and the documented demo secret (docs/contracts.md) has 80."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct


def totp_at(secret_b32: str, unix_time: float, step: int = 30, digits: int = 6) -> str:
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(unix_time // step)), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{code:0{digits}d}"


def verify(secret_b32: str, code: str, unix_time: float, window: int = 1) -> bool:
    """Accept the current code and ``window`` steps either side (clock drift)."""
    return any(
        hmac.compare_digest(totp_at(secret_b32, unix_time + k * 30), code)
        for k in range(-window, window + 1)
    )
