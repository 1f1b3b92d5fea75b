"""Turn a bad configuration into one clear message per setting, never echoing a value.

The SDK's JSON-schema messages quote the offending value (`'hunter2' is not ...`), which
would print a secret. These messages name the setting and what is expected instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlparse

from jsonschema import ValidationError

from tap_didit.settings import MAX_PAGE_SIZE
from tap_didit.timestamps import parse_timestamp
from tap_didit.totp import decode_secret

_EXPECTED = {
    "string": "a text value",
    "integer": "a whole number",
    "number": "a number",
    "array": "a list",
    "object": "a mapping",
    "boolean": "true or false",
}


def _describe(error: ValidationError) -> str:
    setting = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    if error.validator == "required":
        missing = str(error.message).split("'")[1]
        return f"Setting '{missing}' is required but missing."
    if error.validator == "type":
        expected = error.validator_value
        names = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join(_EXPECTED.get(n, n) for n in names if n != "null")
        return f"Setting '{setting}' must be {wanted}."
    if error.validator == "enum":
        return f"Setting '{setting}' must be one of: {', '.join(map(str, error.validator_value))}."
    return f"Setting '{setting}' is invalid ({error.validator})."


def schema_errors(errors: Iterable[ValidationError]) -> list[str]:
    """JSON-schema problems, one per setting, without values."""
    return sorted({_describe(e) for e in errors})


def _is_http_url(value: Any) -> bool:
    parts = urlparse(str(value))
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def semantic_errors(config: Mapping[str, Any]) -> list[str]:
    """Checks JSON schema cannot express."""
    errors: list[str] = []
    for key in ("base_url", "auth_base_url", "console_base_url"):
        if key in config and not _is_http_url(config[key]):
            errors.append(f"Setting '{key}' must be an http(s) URL.")
    if config.get("start_date"):
        try:
            parse_timestamp(str(config["start_date"]))
        except ValueError:
            errors.append("Setting 'start_date' must be an ISO 8601 date-time (UTC).")
    checks = (
        ("page_size", 1, MAX_PAGE_SIZE),
        ("audit_logs_page_size", 1, MAX_PAGE_SIZE),
        ("lookback_days", 0, 3650),
        ("audit_logs_lookback_hours", 0, 24 * 366),
        ("backoff_max_tries", 1, 100),
        ("children_full_sweep_days", 0, 3650),
        ("max_requests_per_minute", 0, 100_000),
        ("max_wait_seconds", 0, 3600),
        ("backoff_factor_seconds", 0, 600),
        ("request_timeout_seconds", 0.001, 3600),
    )
    for key, low, high in checks:
        value = config.get(key)
        if isinstance(value, int | float) and not low <= value <= high:
            errors.append(f"Setting '{key}' must be between {low} and {high}.")
    kinds = config.get("session_kinds")
    if isinstance(kinds, list) and (not kinds or set(kinds) - {"user", "business"}):
        errors.append("Setting 'session_kinds' must list 'user' and/or 'business'.")
    secret = config.get("console_totp_secret")
    if secret:
        try:
            decode_secret(str(secret))
        except ValueError:
            errors.append("Setting 'console_totp_secret' must be a base32 TOTP secret.")
    return errors


def selection_errors(config: Mapping[str, Any], selected: set[str]) -> list[str]:
    """Settings that only some streams need, checked against the selected streams."""
    errors: list[str] = []
    if selected & {"cases", "case_events", "audit_logs"} and not config.get("organization_id"):
        errors.append("Setting 'organization_id' is required by the cases and audit_logs streams.")
    if selected & {"cases", "case_events"} and not config.get("application_id"):
        errors.append("Setting 'application_id' is required by the cases stream.")
    has_login = config.get("console_email") and config.get("console_password")
    if "audit_logs" in selected and not (has_login or config.get("console_access_token")):
        errors.append(
            "Settings 'console_email' and 'console_password' (or 'console_access_token') are "
            "required by the audit_logs stream; deselect it if you have no Console user."
        )
    return errors
