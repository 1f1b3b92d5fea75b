"""Pseudonyms for people and IP addresses in the pack (GDPR minimisation, TIG 3.2.7 tips).

The marts already hold people and IPs only as `p_` + 24 hex digits of HMAC-SHA256 under the
warehouse key (transform/macros/pseudonymise.sql). The pack passes those through unchanged, so
an auditor can match every pack row to its mart row, and pseudonymises whatever else names a
person (raw columns, e-mail and IP addresses in free text) with the same formula and the same
key (NIS2_PSEUDONYM_KEY = the `nis2.pseudonym_key` dbt used), so one person has one pseudonym
everywhere. A keyed HMAC, not a salted hash: e-mail lists and the IPv4 space are small enough to
brute-force a plain hash (STACK-NOTES §12).

The internal version turns pseudonyms back into names through a `NameMap` that the data-access
layer builds from the warehouse's own identities (see `report.identities`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from report.approvers import is_declared_role

KEY_ENV = "NIS2_PSEUDONYM_KEY"
PSEUDONYM = re.compile(r"\bp_[0-9a-f]{24}\b")

# Mart columns that hold a warehouse pseudonym (docs/contracts.md: `*_key` pseudonyms).
PSEUDONYM_COLUMNS = frozenset(
    {
        "actor_key",
        "identity_key",
        "ip_key",
        "ip_prefix_key",
        "principal_key",
        "src_ip_key",
        "target_principal_key",
        "user_key",
    }
)
# Columns that would name a person or an IP in clear (no mart should have one; if one does,
# the public pack must not show it).
PERSONAL_COLUMNS = frozenset(
    {
        "actor",
        "actor_email",
        "agent_ip",
        "approved_by",
        "assignee",
        "dstuser",
        "email",
        "full_name",
        "ip",
        "ip_address",
        "ip_prefix",
        "member_email",
        "owner",
        "person",
        "principal",
        "reported_by",
        "reviewed_by",
        "reviewer",
        "source_ip",
        "src_ip",
        "src_ip_prefix",
        "srcip",
        "srcuser",
        "subject",
        "target_user",
        "user",
        "user_id",
        "username",
    }
)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:/\d{1,3})?(?![\w:])")


class PseudonymKeyMissingError(ValueError):
    """The internal version was asked for without the key that made the marts' pseudonyms."""


class PseudonymKeyMismatchError(ValueError):
    """The marts were pseudonymised with another key than the one the pack was given."""


KEY_ID_INPUT = "nis2-pseudonym-key-id"


def key_id(key: bytes) -> str:
    """The key's id as dbt records it (macros/pseudonym_key_guard.sql): 'k_' + the first 16 hex
    digits of HMAC-SHA256(key, 'nis2-pseudonym-key-id'). The key itself is never stored."""
    return "k_" + hmac.new(key, KEY_ID_INPUT.encode(), hashlib.sha256).hexdigest()[:16]


def check_key_matches(key: bytes | None, recorded: str | None) -> None:
    """Refuse a pack whose key is not the one the marts carry: its names and any pseudonym it
    computes would not match the marts'. Nothing to compare without a key or a record."""
    if key is None or recorded is None or key_id(key) == recorded:
        return
    raise PseudonymKeyMismatchError(
        f"the marts were pseudonymised with key id {recorded}, but NIS2_PSEUDONYM_KEY has key id "
        f"{key_id(key)}: set the key dbt used, or rebuild the marts with this key "
        "(dbt build --full-refresh) before rendering the pack"
    )


def pseudonym(key: bytes, value: str) -> str:
    """The marts' formula: 'p_' + first 24 hex digits of HMAC-SHA256(key, lower(value))."""
    return "p_" + hmac.new(key, value.lower().encode(), hashlib.sha256).hexdigest()[:24]


class NameMap:
    """pseudonym -> real identity, for the internal version; remembers what it could not name."""

    def __init__(self, key: bytes, identities: Iterable[str]) -> None:
        names: dict[str, str] = {}
        for value in sorted(set(identities)):  # sorted: 'Backend API' wins over 'backend api'
            names.setdefault(pseudonym(key, value), _shown(value))
        self._names = names
        self.seen: set[str] = set()
        self.unresolved: set[str] = set()

    def __len__(self) -> int:
        return len(self._names)

    def name(self, token: str) -> str:
        self.seen.add(token)
        found = self._names.get(token)
        if found is None:
            self.unresolved.add(token)
            return token
        return found


def _shown(identity: str) -> str:
    """An IP with a mask is shown as its network (the marts hash '198.51.100.7/24' as is)."""
    if "/" in identity:
        try:
            return str(ipaddress.ip_network(identity, strict=False))
        except ValueError:
            return identity
    return identity


class Pseudonymiser:
    """Public pack: keeps the marts' pseudonyms and pseudonymises anything else personal.
    Internal pack (`names` given): turns the marts' pseudonyms into names, keeps real values."""

    def __init__(self, key: bytes | None, *, names: NameMap | None = None) -> None:
        self.names = names
        self.key_is_managed = key is not None
        self._key = key if key is not None else secrets.token_bytes(32)

    @property
    def internal(self) -> bool:
        return self.names is not None

    @classmethod
    def from_env(cls) -> Pseudonymiser:
        """Key from NIS2_PSEUDONYM_KEY; without it a one-off key (pseudonyms differ per pack)."""
        return cls(managed_key())

    def token(self, value: str) -> str:
        return pseudonym(self._key, value)

    def row(
        self,
        row: Mapping[str, Any],
        identity_when: tuple[str, str, str] | None = None,
        role_column: str = "",
    ) -> dict[str, Any]:
        """A copy of the row as this pack shows it. `identity_when` = (kind column, kind,
        column): that column names a person on rows of that kind (a user-scoped exception).
        `role_column`: a declared role there stays in clear (report.approvers)."""
        shown = {column: self._value(column.lower(), value) for column, value in row.items()}
        if role_column and is_declared_role(row.get(role_column)):
            shown[role_column] = row[role_column]
        if identity_when is not None:
            kind_column, kind, column = identity_when
            value = row.get(column)
            if row.get(kind_column) == kind and isinstance(value, str) and value:
                shown[column] = self._identity(value)
        return shown

    def text(self, value: str) -> str:
        """Free text (titles, explanations): e-mails and IP addresses inside it are replaced
        (public pack), or pseudonyms inside it are named (internal pack)."""
        if self.names is not None:
            names = self.names
            return PSEUDONYM.sub(lambda m: names.name(m[0]), value) if "p_" in value else value
        if "@" in value:  # the cheap tests first: most text holds neither
            value = _EMAIL.sub(lambda m: self.token(m[0]), value)
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
        if column in PSEUDONYM_COLUMNS or column in PERSONAL_COLUMNS:
            return self._identity(value)
        return self.text(value)

    def _identity(self, value: str) -> str:
        is_pseudonym = PSEUDONYM.fullmatch(value) is not None
        if self.names is not None:
            return self.names.name(value) if is_pseudonym else value
        return value if is_pseudonym else self.token(value)

    def _ip_or_keep(self, candidate: str) -> str:
        try:
            ipaddress.ip_network(candidate, strict=False)
        except ValueError:
            return candidate
        return self.token(candidate)


def managed_key() -> bytes | None:
    raw = os.environ.get(KEY_ENV)
    return raw.encode() if raw else None
