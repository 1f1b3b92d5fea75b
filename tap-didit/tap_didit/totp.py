"""RFC 6238 TOTP (SHA-1, 30 s, 6 digits) for the Console's 2FA.

Written out instead of using pyotp because pyotp >= 2.10 refuses secrets shorter than
112 bits, while authenticator apps (and Didit's demo account) use 80-bit secrets.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import time


def decode_secret(secret: str) -> bytes:
    """Base32 secret as shown by authenticator set-up screens (spaces, any case, no pad)."""
    cleaned = secret.replace(" ", "").upper()
    cleaned += "=" * (-len(cleaned) % 8)
    try:
        key = base64.b32decode(cleaned)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not a base32 TOTP secret") from exc
    if not key:
        raise ValueError("empty TOTP secret")
    return key


def hotp(key: bytes, counter: int, digits: int = 6) -> str:
    """RFC 4226 HOTP value for `counter`."""
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(code % 10**digits).zfill(digits)


def totp_now(secret: str, *, at: float | None = None, step: int = 30) -> str:
    """The current 6-digit code for a base32 secret."""
    moment = time.time() if at is None else at
    return hotp(decode_secret(secret), int(moment // step))
