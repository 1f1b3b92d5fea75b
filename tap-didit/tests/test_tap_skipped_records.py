"""Skipped records: a few are named, counted and kept on `skipped_records`; all is a failure.

Issue 16: with `audit_logs_field_aliases` not matching the API, every audit entry was skipped
and the run exited 0 with an empty bookmark. The canned pages here are hand-written; the
simulator serves the real route for the misconfigured-aliases run, through the CLI.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pytest_httpserver import HTTPServer
from sim_org import CONSOLE_EMAIL, SECRETS
from tap_didit.skipped import AllRecordsSkippedError
from tap_didit.tap import TapDidit
from tap_runner import run_tap, select_only
from werkzeug import Response

ORG = "11111111-2222-3333-4444-555555555555"
AUDIT_PATH = f"/v3/audit/{ORG}/audit-logs/"
PII = "jane.doe@example.org"


def entry(uuid: str | None, timestamp: str) -> dict:
    """An audit entry as docs/contracts.md describes it (the personal field is the actor)."""
    return {
        "uuid": uuid,
        "timestamp": timestamp,
        "actor_type": "USER",
        "actor": PII,
        "method": "GET",
        "path": "/v3/sessions/",
        "status_code": 200,
        "ip_address": "198.51.100.7",
    }


def audit_config(server: HTTPServer, **overrides) -> dict:
    return {
        "api_key": "canned-key",
        "base_url": server.url_for("/v3"),
        "console_base_url": server.url_for("/v3"),
        "organization_id": ORG,
        "console_access_token": "pre-issued",
        "max_requests_per_minute": 0,
        "backoff_factor_seconds": 0.01,
        "request_timeout_seconds": 5,
        **overrides,
    }


def serve_page(server: HTTPServer, path: str, results: list[dict]) -> None:
    body = json.dumps({"next": None, "previous": None, "results": results})
    server.expect_request(path).respond_with_response(
        Response(body, status=200, content_type="application/json")
    )


GOOD = [
    entry("a-5", "2026-04-09T09:05:00.000000Z"),
    entry("a-4", "2026-04-09T09:04:00.000000Z"),
    entry(None, "2026-04-09T09:03:30.000000Z"),  # position 3: no key
    entry("a-3", "2026-04-09T09:03:00.000000Z"),
    entry("a-2", "2026-04-09T09:02:00.000000Z"),
    entry("a-bad", "yesterday, around nine"),  # position 6: no readable timestamp
    entry("a-1", "2026-04-09T09:01:00.000000Z"),
]


def test_a_few_skipped_entries_are_emitted_on_the_skipped_stream_and_the_rest_load(httpserver):
    serve_page(httpserver, AUDIT_PATH, GOOD)
    run = run_tap(audit_config(httpserver), {"audit_logs", "skipped_records"})

    assert [r["uuid"] for r in run.records("audit_logs")] == ["a-5", "a-4", "a-3", "a-2", "a-1"]
    skipped = run.records("skipped_records")
    assert [
        (s["stream"], s["position"], s["record_key"], s["reason"], s["missing_fields"])
        for s in skipped
    ] == [
        ("audit_logs", 3, None, "has no uuid", ["uuid"]),
        ("audit_logs", 6, "a-bad", "has no valid `timestamp` timestamp", ["timestamp"]),
    ]
    assert all(s["skipped_at"].endswith("Z") and s["sync_started_at"] for s in skipped)
    kinds = [(m["type"], m.get("stream")) for m in run.messages]
    first_skip = kinds.index(("RECORD", "skipped_records"))
    assert ("SCHEMA", "skipped_records") in kinds[:first_skip]
    schema = next(
        m for m in run.messages if m["type"] == "SCHEMA" and m["stream"] == "skipped_records"
    )
    assert schema["key_properties"] == ["stream", "sync_started_at", "position"]
    assert "skipped record {'uuid': None} (record 3 of this run): it has no uuid" in run.logs
    assert "skipped record {'uuid': 'a-bad'} (record 6 of this run)" in run.logs
    assert PII not in run.logs
    assert PII not in json.dumps(skipped)
    bookmark = run.final_state["bookmarks"]["audit_logs"]["replication_key_value"]
    assert bookmark == "2026-04-09T09:05:00.000000Z"


def test_all_entries_skipped_fails_naming_the_aliases_setting_and_the_fields(httpserver):
    renamed = [
        {"id": f"a-{i}", "created": f"2026-04-09T09:0{i}:00.000000Z", "actor": PII}
        for i in range(3)
    ]
    serve_page(httpserver, AUDIT_PATH, renamed)
    with pytest.raises(AllRecordsSkippedError) as failure:
        run_tap(audit_config(httpserver), {"audit_logs", "skipped_records"})
    message = str(failure.value)
    assert "Stream 'audit_logs'" in message
    assert "delivered 3 record(s)" in message
    assert "`audit_logs_field_aliases`" in message
    assert "`timestamp` (looked up as `timestamp`) in 3" in message
    assert "`uuid` (looked up as `uuid`) in 3" in message
    assert PII not in message
    assert "a-0" not in message


def test_the_gate_holds_for_other_streams_without_the_skipped_stream_selected(httpserver):
    sessions = [
        {"session_id": f"00000000-0000-4000-8000-00000000000{i}", "session_kind": "user"}
        for i in range(2)
    ]
    serve_page(httpserver, "/v3/sessions/", sessions)
    with pytest.raises(AllRecordsSkippedError, match=r"`created_at` in 2.*`base_url`"):
        run_tap(audit_config(httpserver, session_kinds=["user"]), {"sessions"})


def test_an_empty_run_is_not_a_failure(httpserver):
    """Nothing offered is a quiet day, not a misconfiguration: exit 0, nothing skipped."""
    serve_page(httpserver, AUDIT_PATH, [])
    run = run_tap(audit_config(httpserver), {"audit_logs", "skipped_records"})
    assert run.records("audit_logs") == []
    assert run.records("skipped_records") == []


def test_misnamed_aliases_against_the_simulator_exit_non_zero_and_name_the_setting(sim, tmp_path):
    """The run of issue 16, through the command line: the simulator sends `uuid`, the
    aliases point at a key it never sends."""
    config = sim.config(audit_logs_field_aliases={"uuid": "entry_id"})
    (tmp_path / "config.json").write_text(json.dumps(config))
    catalog = select_only(
        TapDidit(config=config, parse_env_config=False), {"audit_logs", "skipped_records"}
    )
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    command = [sys.executable, "-m", "tap_didit", "--config", str(tmp_path / "config.json")]
    command += ["--catalog", str(tmp_path / "catalog.json")]
    done = subprocess.run(command, capture_output=True, text=True, check=False)

    assert done.returncode != 0
    assert "audit_logs_field_aliases" in done.stderr
    assert "`uuid` (looked up as `entry_id`)" in done.stderr
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert not [m for m in messages if m.get("stream") == "audit_logs" and m["type"] == "RECORD"]
    skipped = [m["record"] for m in messages if m["type"] == "RECORD"]
    assert skipped, "the skipped entries reach the target before the failure"
    assert {(s["stream"], s["reason"], tuple(s["missing_fields"])) for s in skipped} == {
        ("audit_logs", "has no uuid", ("uuid",))
    }
    assert [s["position"] for s in skipped] == list(range(1, len(skipped) + 1))
    bookmarks = [m["value"].get("bookmarks", {}) for m in messages if m["type"] == "STATE"]
    assert not any(b.get("audit_logs", {}).get("replication_key_value") for b in bookmarks)
    for secret in (*SECRETS[:3], CONSOLE_EMAIL):
        assert secret not in done.stderr
