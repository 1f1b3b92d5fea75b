"""A warehouse of our own (hand-written rows in the marts' shapes), a local webhook receiver
and a local SMTP server, all on 127.0.0.1, and a way to run `nis2-monitor run` as a process."""

from __future__ import annotations

import json
import os
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import pytest

from nis2_settings import ROOT
from pipeline.postgres import ensure_database

SCHEMA = "analytics_nis2"
# The marts' columns the default finding sources read (transform/models/marts/nis2/*.sql).
MART_DDL = f"""
create schema {SCHEMA};
create table {SCHEMA}.mart_nis2_auth_failure_detections (
    detection_id text, detection_type text, source_system text, principal_key text,
    src_ip_key text, application text, window_start timestamptz, window_end timestamptz,
    detected_at timestamptz, failures bigint, peak_in_window bigint, threshold_used numeric,
    alert_raised_in_siem boolean);
create table {SCHEMA}.mart_nis2_access_anomalies (
    event_id text, source_system text, principal_key text, principal_type text,
    event_ts timestamptz, ip_key text, country text, first_seen_country_for_user boolean,
    is_off_hours boolean, privileged boolean, application text, anomaly_score integer);
create table {SCHEMA}.mart_nis2_privileged_activity (
    event_id text, event_ts timestamptz, source_system text, event_class text,
    actor_key text, target_principal_key text, privilege text, application text, path text,
    unapproved_assignment boolean, elevations_24h bigint, behavioural_alarm boolean);
create table {SCHEMA}.mart_nis2_log_ingestion_gaps (
    gap_id text, source_system text, asset_id text, gap_start timestamptz,
    gap_end timestamptz, gap_minutes numeric, expected_max_gap_min integer,
    explained_by text, is_open boolean, detected_at timestamptz);
create table {SCHEMA}.mart_nis2_log_retention_integrity (
    partition_id text, source_system text, asset_id text, partition_date date,
    digest_sha256 text, recomputed_digest text, change_kind text, tamper_detected boolean,
    last_loaded_at timestamptz);
create table {SCHEMA}.mart_nis2_reporting_deadlines (
    deadline_id text, incident_id text, regime text, stage text, anchor_at timestamptz,
    due_at timestamptz, due_at_local text, submitted_at timestamptz, status text,
    is_significant boolean);
create table {SCHEMA}.mart_nis2_siem_detections (
    detection_id text, detection_type text, mitre_technique text, ir_annex text, asset_id text,
    account_key text, src_ip_key text, window_start timestamptz, window_end timestamptz,
    detected_at timestamptz, evidence_alerts bigint);
create table {SCHEMA}.mart_nis2_iam_admin_detections (
    detection_id text, detection_type text, mitre_technique text, ir_annex text,
    actor_key text, target_key text, role_name text, local_time text, is_off_hours boolean,
    is_external_source boolean, event_ts timestamptz, is_finding boolean);
create table {SCHEMA}.mart_nis2_correlated_findings (
    correlation_id text, key_type text, subject_key text, sources text,
    detection_types text, findings bigint, first_at timestamptz);
"""


@dataclass
class Received:
    headers: dict[str, str]
    payload: dict


@dataclass
class Receiver:
    """Answers `fail_first` requests with 500, then 200; keeps every request it answered."""

    url: str
    port: int
    requests: list[Received] = field(default_factory=list)
    fail_first: int = 0
    answered: int = 0

    def delivery_ids(self) -> list[str]:
        return [r.headers.get("x-nis2-delivery-id", "") for r in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            rec = box["r"]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            rec.answered += 1
            if rec.answered <= rec.fail_first:
                self.send_response(500)
                self.end_headers()
                return
            rec.requests.append(
                Received({k.lower(): v for k, v in self.headers.items()}, json.loads(body))
            )
            self.send_response(200)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    box["r"] = Receiver(url=f"json://127.0.0.1:{port}/hooks/tok-s3cr3t-0451", port=port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box["r"]
    server.shutdown()
    server.server_close()


@dataclass
class Mailbox:
    port: int
    messages: list[str] = field(default_factory=list)


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    """A minimal SMTP server (RFC 5321 commands only, no TLS, no auth) keeping each message."""
    box = Mailbox(port=0)

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, text: str) -> None:
            self.wfile.write(f"{text}\r\n".encode())

        def handle(self) -> None:
            self.reply("220 localhost ESMTP test")
            while line := self.rfile.readline():
                verb = line.decode(errors="replace").strip().split(" ", 1)[0].upper()
                if verb == "EHLO":
                    self.reply("250-localhost")
                    self.reply("250 8BITMIME")
                elif verb == "DATA":
                    self.reply("354 end with <CRLF>.<CRLF>")
                    lines = []
                    while (data := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                        lines.append(data.decode(errors="replace"))
                    box.messages.append("".join(lines))
                    self.reply("250 queued")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("250 ok")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    box.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield box
    server.shutdown()
    server.server_close()


@pytest.fixture
def warehouse(admin_conninfo: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database with empty marts; its conninfo."""
    name = "monitor_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[:50].lower()
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
    ensure_database(admin_conninfo, name)
    conninfo = admin_conninfo.replace("dbname=postgres", f"dbname={name}")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(MART_DDL)
    yield conninfo
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def insert(conninfo: str, table: str, **row: object) -> None:
    cols = ", ".join(row)
    marks = ", ".join(["%s"] * len(row))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            f"insert into {SCHEMA}.{table} ({cols}) values ({marks})",  # noqa: S608 - test names
            list(row.values()),
        )


@dataclass
class MonitorRun:
    returncode: int
    output: str


def run_monitor(conninfo: str, urls: list[str], **env: str) -> MonitorRun:
    """`nis2-monitor run` as its own process (so a test can SIGKILL it at a named point)."""
    full = {
        **os.environ,
        "NIS2_PG_CONNINFO": conninfo,
        "NIS2_ALERT_URLS": "\n".join(urls),
        "NIS2_MARTS_SCHEMA": SCHEMA,
        "NIS2_ALERT_DASHBOARD_URL": "https://dash.example.org/superset",
        "NIS2_ALERT_RETRY_BASE_SECONDS": "0",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "run"],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return MonitorRun(result.returncode, result.stdout + result.stderr)
