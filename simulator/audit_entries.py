"""Build Console audit-log entries (docs/contracts.md, ASSUMED shape) fast enough for 1M rows."""

from __future__ import annotations

import random

from simulator.clock import iso_micro, new_uuid
from simulator.didit_store import to_json

# Keys whose values the Console masks in `request_body` (secrets and end-user personal data).
REDACTED_KEYS = frozenset(
    {
        "password",
        "otp_token",
        "temp_token",
        "refresh_token",
        "access_token",
        "token",
        "api_key",
        "secret",
        "secret_shared_key",
        "vendor_data",
        "full_name",
        "first_name",
        "last_name",
        "date_of_birth",
        "document_number",
        "phone",
        "contact_details",
        "expected_details",
        "callback",
        "comment",
        "value",
    }
)

LOGIN_PATH = "/auth/v2/programmatic/login/"
BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36"
)
SERVICE_UA = {
    "NIS2 reporting (read-only)": "tap-didit/0.1 (Meltano Singer SDK)",
    "Backend production": "python-requests/2.32.3",
    "Webhook reconciler": "python-httpx/0.28.1",
    "CI smoke tests": "curl/8.11.1",
}


def redact(body: dict | None) -> dict | None:
    """Mask secret and personal values the way the Console shows request bodies."""
    if body is None:
        return None
    return {k: ("***" if k in REDACTED_KEYS else v) for k, v in body.items()}


def audit_row(
    rng: random.Random,
    ts_us: int,
    actor_type: str,
    actor: str | None,
    method: str,
    path: str,
    status: int,
    ip: str,
    country: str | None,
    user_agent: str | None,
    app: tuple[str, str] | None,
    request_body: dict | None = None,
    report_url: str | None = None,
) -> tuple[str, str, bytes]:
    """One (uuid, ts, body) row; ``request_body`` is redacted here, never by callers."""
    uid = new_uuid(rng)
    ts = iso_micro(ts_us)
    entry = {
        "uuid": uid,
        "timestamp": ts,
        "actor_type": actor_type,
        "actor": actor,
        "api_key_name": actor if actor_type == "API_KEY" else None,
        "method": method,
        "path": path,
        "status_code": status,
        "ip_address": ip,
        "country": country,
        "user_agent": user_agent,
        "application_id": app[0] if app else None,
        "application_name": app[1] if app else None,
        "request_body": redact(request_body),
        "investigator_report_url": report_url,
    }
    return uid, ts, to_json(entry)


def key_call(
    rng,
    rows: list,
    ts_us: int,
    key,
    method: str,
    path: str,
    status: int,
    app,
    body: dict | None = None,
    ip: str | None = None,
    country: str | None = None,
    user_agent: str | None = None,
) -> None:
    """Append a request made with an API key (from its usual address unless given)."""
    rows.append(
        audit_row(
            rng,
            ts_us,
            "API_KEY",
            key.name,
            method,
            path,
            status,
            ip or key.ip,
            country or key.country,
            user_agent or SERVICE_UA[key.name],
            app,
            body,
        )
    )


def member_call(
    rng,
    rows: list,
    ts_us: int,
    member,
    method: str,
    path: str,
    status: int,
    app=None,
    body: dict | None = None,
) -> None:
    """Append a Console request by a signed-in member from the member's usual address."""
    rows.append(
        audit_row(
            rng,
            ts_us,
            "USER",
            member.email,
            method,
            path,
            status,
            member.ip,
            member.country,
            BROWSER_UA,
            app,
            body,
        )
    )


def failed_login(
    rng,
    rows: list,
    ts_us: int,
    email: str,
    ip: str,
    country: str | None,
    status: int,
    user_agent: str,
) -> None:
    """An unauthenticated Console login attempt that failed (the e-mail tried is kept)."""
    rows.append(
        audit_row(
            rng,
            ts_us,
            "ANONYMOUS",
            None,
            "POST",
            LOGIN_PATH,
            status,
            ip,
            country,
            user_agent,
            None,
            {"email": email, "password": "x"},
        )
    )
