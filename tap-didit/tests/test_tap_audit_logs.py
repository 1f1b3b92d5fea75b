"""The Console audit-log stream against the simulator: login, 2FA, renewal, cursor pages.

Renamed key fields (aliases for `uuid` / `timestamp`) need entries the simulator does not
send: test_tap_http_edge_cases.py.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from sim_org import SECRETS
from singer_sdk.exceptions import ConfigValidationError
from tap_didit.errors import DiditAuthError
from tap_didit.timestamps import format_timestamp, parse_timestamp
from tap_runner import run_tap

AUDIT = "/audit-logs/"


def audit_config(sim, **overrides):
    """Console settings; a value of None removes that setting."""
    config = sim.config(**{"audit_logs_page_size": 100, **overrides})
    return {k: v for k, v in config.items() if v is not None}


def calls(sent, suffix: str) -> list:
    return [r for r in sent if r.path.endswith(suffix)]


def test_login_with_totp_then_cursor_pages_read_every_entry(sim, sent):
    run = run_tap(audit_config(sim), {"audit_logs"})
    records = run.records("audit_logs")
    uuids = [r["uuid"] for r in records]
    assert (
        len(uuids)
        == len(set(uuids))
        == sim.server.state.store.count("SELECT COUNT(*) FROM audit_log", [])
    )
    assert all(r["raw"]["uuid"] == r["uuid"] and r["raw"]["path"] == r["path"] for r in records)
    assert len(calls(sent, "/programmatic/login/")) == 1
    assert len(calls(sent, "/2fa/verify/")) == 1
    pages = calls(sent, AUDIT)
    assert len(pages) == math.ceil(len(records) / 100)
    assert all("cursor" in r.query for r in pages[1:])
    assert all(r.headers["authorization"].startswith("Bearer ") for r in pages)
    assert not any("x-api-key" in r.headers for r in pages)
    assert run.final_state["bookmarks"]["audit_logs"]["replication_key_value"] == max(
        r["timestamp"] for r in records
    )
    for secret in SECRETS[:3]:
        assert secret not in run.output + run.logs


def test_missing_totp_secret_is_named(sim):
    with pytest.raises(DiditAuthError, match="console_totp_secret"):
        run_tap(audit_config(sim, console_totp_secret=None), {"audit_logs"})


def test_wrong_password_is_named_without_echoing_it(sim):
    config = audit_config(sim, console_password="not-the-password")
    with pytest.raises(DiditAuthError, match="console_email and console_password") as failure:
        run_tap(config, {"audit_logs"})
    assert "not-the-password" not in str(failure.value)


def test_a_401_renews_the_token_once_and_retries_the_page(sim, sent):
    config = audit_config(sim, audit_logs_page_size=500)
    expected = len(run_tap(config, {"audit_logs"}).records("audit_logs"))
    sim.server.set_faults({"error_burst": {"status": 401, "count": 1, "path_regex": AUDIT}})
    sent.clear()
    run = run_tap(config, {"audit_logs"})
    assert len(run.records("audit_logs")) == expected
    assert len(calls(sent, "/token/refresh/")) == 1
    assert len(calls(sent, "/programmatic/login/")) == 1


def test_a_refused_pre_issued_token_names_the_permission(sim):
    config = audit_config(
        sim, console_access_token="stale", console_email=None, console_password=None
    )
    with pytest.raises(DiditAuthError, match="read:audit-logs") as failure:
        run_tap(config, {"audit_logs"})
    assert "stale" not in str(failure.value)


def test_aliases_and_offset_style(sim, sent):
    config = audit_config(
        sim,
        audit_logs_field_aliases={"actor": "api_key_name", "application_name": "not_sent"},
        audit_logs_pagination="offset",
        audit_logs_page_size=500,
    )
    records = run_tap(config, {"audit_logs"}).records("audit_logs")
    assert any(r["actor"] for r in records)
    assert all(r["actor"] == r["raw"].get("api_key_name") for r in records)
    assert all(r["application_name"] is None for r in records)
    assert calls(sent, AUDIT)[0].query["offset"] == "0"


def test_ties_at_the_bookmark_are_read_and_the_walk_stops_one_page_past_it(sim, sent):
    """Audit entries are dense (a page of 10 covers minutes), so the stop rule matters."""
    config = audit_config(sim, audit_logs_page_size=500, audit_logs_lookback_hours=0)
    everything = run_tap(config, {"audit_logs"}).records("audit_logs")
    # The previous run started at noon, three days before the newest entry.
    newest = parse_timestamp(max(r["timestamp"] for r in everything))
    noon = dt.datetime.combine(newest.date() - dt.timedelta(days=3), dt.time(12), dt.UTC)
    state = run_tap(config, {"audit_logs"}, started_at=noon).final_state
    floor = state["bookmarks"]["audit_logs"]["replication_key_value"]
    assert floor == format_timestamp(noon)
    tied = sim.server.set_faults(
        {"equal_timestamps": {"stream": "audit_logs", "count": 25, "timestamp": floor}}
    )["equal_timestamps"]
    sent.clear()
    small_pages = {**config, "audit_logs_page_size": 10}
    run = run_tap(small_pages, {"audit_logs"}, state=state, started_at=noon + dt.timedelta(hours=1))

    day = [r for r in everything if r["timestamp"][:10] == floor[:10]]
    day += [{"uuid": u, "timestamp": floor} for u in tied]
    day.sort(key=lambda r: (r["timestamp"], r["uuid"]), reverse=True)
    expected = {r["uuid"] for r in day if r["timestamp"] >= floor}
    assert {r["uuid"] for r in run.records("audit_logs")} == expected
    pages = [day[i : i + 10] for i in range(0, len(day), 10)]
    past = next(i for i, p in enumerate(pages) if all(r["timestamp"] < floor for r in p))
    assert past + 1 < len(pages)  # the day goes on below: stopping early is observable
    assert len(calls(sent, AUDIT)) == past + 1


def test_audit_logs_without_console_credentials_is_a_setting_error(sim):
    config = audit_config(sim, console_email=None, console_password=None, console_totp_secret=None)
    with pytest.raises(ConfigValidationError) as failure:
        run_tap(config, {"audit_logs"})
    assert "console_email" in " ".join(failure.value.errors)
