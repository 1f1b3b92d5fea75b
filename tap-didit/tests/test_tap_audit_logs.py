"""The Console audit-log stream: login, 2FA, refresh, cursor pages, aliases, raw entry."""

from __future__ import annotations

import datetime as dt

import pytest
from fake_didit_server import CONSOLE_EMAIL, CONSOLE_PASSWORD, TOTP_SECRET, ts
from tap_didit.errors import DiditAuthError
from tap_runner import run_tap

T = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)
ORG = "11111111-2222-3333-4444-555555555555"


def entry(i: int, when: dt.datetime, **extra) -> dict:
    return {
        "uuid": f"a0000000-0000-4000-8000-{i:012d}",
        "timestamp": ts(when),
        "actor_type": "USER",
        "actor": "analyst@example.org",
        "method": "GET",
        "path": f"/v3/session/{i}/decision/",
        "status_code": 200,
        "ip_address": "203.0.113.9",
        "request_body": None,
        **extra,
    }


def console_config(didit, **overrides):
    settings = {
        "console_base_url": didit.base_url,
        "auth_base_url": didit.server.url_for("/auth/v2"),
        "organization_id": ORG,
        "console_email": CONSOLE_EMAIL,
        "console_password": CONSOLE_PASSWORD,
        "audit_logs_page_size": 10,
        **overrides,
    }
    return didit.config(**{k: v for k, v in settings.items() if v is not None})


def test_login_with_totp_2fa_and_cursor_pages(didit):
    didit.console_totp_secret = TOTP_SECRET
    didit.audit_entries = [entry(i, T - dt.timedelta(minutes=i)) for i in range(23)]
    run = run_tap(console_config(didit, console_totp_secret=TOTP_SECRET), {"audit_logs"})
    records = run.records("audit_logs")
    assert len(records) == 23
    assert records[0]["raw"]["path"] == records[0]["path"]
    paths = [p for p, _ in didit.requests]
    assert paths.count("/auth/v2/programmatic/login/") == 1
    assert paths.count("/auth/v2/2fa/verify/") == 1
    assert paths.count(f"/v3/audit/{ORG}/audit-logs/") == 3
    assert CONSOLE_PASSWORD not in run.output + run.logs
    assert TOTP_SECRET not in run.logs


def test_missing_totp_secret_is_named(didit):
    didit.console_totp_secret = TOTP_SECRET
    with pytest.raises(DiditAuthError, match="console_totp_secret"):
        run_tap(console_config(didit), {"audit_logs"})


def test_wrong_password_is_named_without_echoing_it(didit):
    with pytest.raises(DiditAuthError, match="console_email and console_password") as failure:
        run_tap(console_config(didit, console_password="not-the-password"), {"audit_logs"})
    assert "not-the-password" not in str(failure.value)


def test_expired_token_is_renewed_once_and_the_page_retried(didit):
    didit.audit_entries = [entry(i, T - dt.timedelta(minutes=i)) for i in range(15)]
    original = didit.audit_route

    def expire_after_first_page(request):
        if request.args.get("cursor"):
            didit.valid_tokens.discard("access-1")
        return original(request)

    didit.audit_route = expire_after_first_page
    run = run_tap(console_config(didit), {"audit_logs"})
    assert len(run.records("audit_logs")) == 15
    paths = [p for p, _ in didit.requests]
    assert paths.count("/auth/v2/token/refresh/") == 1


def test_pre_issued_token_that_is_refused_names_the_permission(didit):
    config = console_config(didit, console_access_token="stale", console_password=None)
    with pytest.raises(DiditAuthError, match="read:audit-logs"):
        run_tap(config, {"audit_logs"})


def test_field_aliases_and_offset_style_and_incremental_bookmark(didit):
    renamed = []
    for i in range(12):
        e = entry(i, T - dt.timedelta(hours=i))
        e["created"] = e.pop("timestamp")
        e["id"] = e.pop("uuid")
        e["new_field_from_didit"] = i
        renamed.append(e)
    didit.audit_entries = [dict(e, timestamp=e["created"], uuid=e["id"]) for e in renamed]
    for e in didit.audit_entries:  # the fake sorts on our names; the tap reads aliases
        e.pop("timestamp_alias", None)
    config = console_config(
        didit,
        audit_logs_field_aliases={"timestamp": "created", "uuid": "id"},
        audit_logs_pagination="offset",
    )
    run = run_tap(config, {"audit_logs"})
    records = run.records("audit_logs")
    assert {r["uuid"] for r in records} == {e["id"] for e in renamed}
    assert all(r["raw"]["new_field_from_didit"] is not None for r in records)
    first_query = next(q for p, q in didit.requests if p.endswith("/audit-logs/"))
    assert first_query["offset"] == "0"
    assert run.final_state["bookmarks"]["audit_logs"]["replication_key_value"] == ts(T)


def test_audit_logs_without_console_credentials_is_a_setting_error(didit):
    from singer_sdk.exceptions import ConfigValidationError

    config = didit.config(organization_id=ORG)
    with pytest.raises(ConfigValidationError) as failure:
        run_tap(config, {"audit_logs"})
    assert "console_email" in " ".join(failure.value.errors)
