"""Pseudonyms for people and IP addresses in the pack (GDPR minimisation, TIG 3.2.7 tips).

HMAC-SHA256 with a managed key, not a salted hash: e-mail lists and the IPv4 space are small
enough to brute-force a plain hash (STACK-NOTES §12). The same key gives the same pseudonym
across packs, so an auditor can follow one person through months without learning who it is.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from typing import Any

KEY_ENV = "NIS2_PSEUDONYM_KEY"

# Columns that name a person or an account held by one.
PERSON_COLUMNS = frozenset(
    {
        "actor",
        "actor_key",
        "actor_email",
        "approved_by",
        "assignee",
        "dstuser",
        "email",
        "full_name",
        "identity_key",
        "member_email",
        "owner",
        "person",
        "principal",
        "principal_key",
        "reported_by",
        "reviewer",
        "reviewed_by",
        "srcuser",
        "subject",
        "target_principal_key",
        "target_user",
        "user",
        "user_id",
        "user_key",
        "username",
    }
)
# Columns that hold an IP address or prefix.
IP_COLUMNS = frozenset(
    {
        "agent_ip",
        "ip",
        "ip_address",
        "ip_key",
        "ip_prefix",
        "ip_prefix_key",
        "source_ip",
        "src_ip",
        "src_ip_key",
        "src_ip_prefix",
        "srcip",
    }
)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:/\d{1,3})?(?![\w:])")


class Pseudonymiser:
    """Replaces people and IPs with stable keyed pseudonyms; `enabled=False` keeps real values."""

    def __init__(self, key: bytes | None, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.key_is_managed = key is not None
        self._key = key if key is not None else secrets.token_bytes(32)

    @classmethod
    def from_env(cls, *, enabled: bool = True) -> Pseudonymiser:
        """Key from NIS2_PSEUDONYM_KEY; without it a one-off key (pseudonyms differ per pack)."""
        raw = os.environ.get(KEY_ENV)
        return cls(raw.encode() if raw else None, enabled=enabled)

    def token(self, kind: str, value: str) -> str:
        digest = hmac.new(self._key, value.strip().lower().encode(), hashlib.sha256).hexdigest()
        return f"{kind}-{digest[:10]}"

    def row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of the row with personal columns and embedded e-mails/IPs replaced."""
        if not self.enabled:
            return dict(row)
        return {column: self._value(column.lower(), value) for column, value in row.items()}

    def text(self, value: str) -> str:
        """Free text (titles, explanations): e-mails and IP addresses inside it are replaced."""
        if not self.enabled:
            return value
        if "@" in value:  # the cheap tests first: most text holds neither
            value = _EMAIL.sub(lambda m: self.token("person", m[0]), value)
        if "." in value:
            value = _IPV4.sub(lambda m: self._ip_or_keep(m[0]), value)
        if ":" in value:
            value = _IPV6.sub(lambda m: self._ip_or_keep(m[0]), value)
        return value

    def _value(self, column: str, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [self._value(column, item) for item in value]
        if isinstance(value, dict):
            return {key: self._value(str(key).lower(), item) for key, item in value.items()}
        if not isinstance(value, str) or not value:
            return value
        if column in PERSON_COLUMNS:
            return self.token("person", value)
        if column in IP_COLUMNS:
            return self.token("ip", value)
        return self.text(value)

    def _ip_or_keep(self, candidate: str) -> str:
        try:
            ipaddress.ip_network(candidate, strict=False)
        except ValueError:
            return candidate
        return self.token("ip", candidate)
