"""Secrets and personal data never reach logs, state or error output."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

from fake_didit_server import (
    API_KEY,
    CONSOLE_EMAIL,
    CONSOLE_PASSWORD,
    TOTP_SECRET,
    json_response,
    make_session,
    ts,
)
from tap_didit.tap import TapDidit
from tap_runner import select_only

T = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
ALL = {"sessions", "session_reviews", "session_decisions", "audit_logs", "lists", "list_entries"}
PERSONAL = ("Jane Marie Doe", "customer-", "X-Amz-Signature", "jane@example.com", "P1234567")


def run_cli(tmp_path, config: dict) -> subprocess.CompletedProcess:
    (tmp_path / "config.json").write_text(json.dumps(config))
    catalog = select_only(TapDidit(config=config, parse_env_config=False), ALL)
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tap_didit",
            "--config",
            str(tmp_path / "config.json"),
            "--catalog",
            str(tmp_path / "catalog.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def full_config(didit) -> dict:
    return didit.config(
        console_base_url=didit.base_url,
        auth_base_url=didit.server.url_for("/auth/v2"),
        organization_id="org-1",
        console_email=CONSOLE_EMAIL,
        console_password=CONSOLE_PASSWORD,
        console_totp_secret=TOTP_SECRET,
    )


def seed(didit) -> None:
    didit.console_totp_secret = TOTP_SECRET
    didit.sessions = [
        make_session(i, T + dt.timedelta(minutes=i), email_address={"email": "jane@example.com"})
        for i in range(5)
    ]
    for s in didit.sessions:
        sid = s["session_id"]
        didit.reviews[sid] = [
            {"uuid": f"r-{sid}", "actor_email": "jane@example.com", "created_at": ts(T)}
        ]
        didit.decisions[sid] = {
            "session_id": sid,
            "status": "Approved",
            "id_verifications": [
                {
                    "node_id": "n",
                    "status": "Approved",
                    "document_number": "P1234567",
                    "full_name": "Jane Marie Doe",
                    "portrait_image": "https://m/x?X-Amz-Signature=1",
                }
            ],
        }
    didit.audit_entries = [
        {"uuid": "a1", "timestamp": ts(T), "actor": "jane@example.com", "path": "/v3/users/"}
    ]
    didit.lists = {"l1": [{"uuid": "e1", "value": "jane@example.com"}]}


def test_a_full_run_keeps_secrets_out_of_everything_and_personal_data_out_of_logs(didit, tmp_path):
    seed(didit)
    done = run_cli(tmp_path, full_config(didit))
    assert done.returncode == 0, done.stderr[-2000:]
    states = [json.loads(line) for line in done.stdout.splitlines() if '"STATE"' in line]
    for secret in (API_KEY, CONSOLE_PASSWORD, TOTP_SECRET, CONSOLE_EMAIL, "access-1", "refresh-1"):
        assert secret not in done.stdout
        assert secret not in done.stderr
    for personal in PERSONAL:
        assert personal not in done.stderr, personal
        assert personal not in json.dumps(states), personal
    records = [json.loads(line) for line in done.stdout.splitlines() if '"RECORD"' in line]
    assert {r["stream"] for r in records} >= {"sessions", "session_decisions", "audit_logs"}
    assert "X-Amz-Signature" not in done.stdout
    assert "P1234567" not in done.stdout


def test_failures_keep_bodies_and_secrets_out_of_the_error_output(didit, tmp_path):
    seed(didit)
    body = {"detail": "Key sk-live-999 of Jane Marie Doe (jane@example.com) is revoked"}
    didit.fail(r"^/v3/sessions/$", lambda _r: json_response(body, status=403))
    didit.fail(r"/decision/$", lambda _r: json_response(body, status=500), times=99)
    done = run_cli(tmp_path, full_config(didit))
    assert done.returncode != 0
    assert "HTTP 403" in done.stderr
    assert "sk-live-999" not in done.stderr
    for secret in (API_KEY, CONSOLE_PASSWORD, TOTP_SECRET, *PERSONAL):
        assert secret not in done.stderr, secret
