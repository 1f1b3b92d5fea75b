"""Benchmark of the dbt project (transform/): full build on 2M audit-log entries, then an
incremental run after 1% new data. A benchmark, not a test: it prints numbers.

Raw tables are created in the shape target-postgres gives them (docs/contracts.md) and filled
with COPY from a seeded generator, because loading 2M rows through the taps would measure the
taps, not dbt. Usage:

    python benchmarks/dbt_benchmark.py [--audit-rows 2000000] [--port 55451] [--keep]

It starts its own embedded PostgreSQL under var/dbt-bench/ (use --dsn to point elsewhere) and
runs the dbt executable from $DBT_BIN or var/dbt-venv/bin/dbt.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
TRANSFORM = ROOT / "transform"
SDC = (
    "_sdc_extracted_at timestamp, _sdc_received_at timestamp, _sdc_batched_at timestamp, "
    "_sdc_deleted_at timestamp, _sdc_sequence bigint, _sdc_table_version bigint"
)
RAW_DDL = {
    "tap_didit.audit_logs": "uuid varchar primary key, timestamp timestamp, actor_type varchar, "
    "actor varchar, api_key_name varchar, method varchar, path varchar, status_code bigint, "
    "ip_address varchar, country varchar, user_agent varchar, application_id varchar, "
    "application_name varchar, request_body jsonb, investigator_report_url varchar",
    "tap_didit.sessions": "session_id varchar primary key, session_kind varchar, "
    "session_number bigint, status varchar, vendor_data varchar, didit_internal_id varchar, "
    "workflow_id varchar, document_type varchar, country varchar, created_at timestamp, "
    "features jsonb",
    "tap_didit.session_decisions": "session_id varchar primary key, status varchar, "
    "vendor_data varchar, workflow_id varchar, created_at timestamp",
    "tap_didit.session_reviews": "uuid varchar primary key, session_id varchar, "
    "activity_type varchar, actor_display varchar, actor_email varchar, actor_type varchar, "
    "new_status varchar, previous_status varchar, comment varchar, metadata jsonb, "
    "created_at timestamp",
    "tap_didit.workflows": "uuid varchar primary key, workflow_id varchar, workflow_label varchar, "
    "version bigint, status varchar, updated_at timestamp",
    "tap_didit.users": "didit_internal_id varchar primary key, vendor_data varchar, status varchar, "
    "session_count bigint, approved_count bigint, declined_count bigint, "
    "first_session_at timestamp, last_session_at timestamp, created_at timestamp",
    "tap_didit.businesses": "didit_internal_id varchar primary key, status varchar, "
    "created_at timestamp",
    "tap_didit.webhook_destinations": "uuid varchar primary key, label varchar, url varchar, "
    "enabled boolean, created_at timestamp",
    "tap_didit.webhook_deliveries": "uuid varchar primary key, destination_uuid varchar, "
    "webhook_type varchar, session_id varchar, http_status bigint, attempt bigint, "
    "is_retry boolean, created_at timestamp",
    "tap_didit.cases": "uuid varchar primary key, status varchar, created_at timestamp",
    "tap_didit.case_events": "uuid varchar primary key, case_uuid varchar, event_type varchar, "
    "created_at timestamp",
    "tap_didit.lists": "uuid varchar primary key, name varchar, created_at timestamp",
    "tap_didit.list_entries": "uuid varchar primary key, list_uuid varchar, created_at timestamp",
    "tap_didit.billing_balance": "balance varchar, auto_refill_enabled boolean",
    "tap_wazuh.wazuh_alerts": "id varchar primary key, timestamp varchar, rule jsonb, agent jsonb, "
    "manager jsonb, data jsonb, location varchar, full_log varchar, decoder jsonb",
    "tap_keycloak.event_entity": "id varchar primary key, client_id varchar, details_json varchar, "
    "error varchar, ip_address varchar, realm_id varchar, session_id varchar, event_time bigint, "
    "type varchar, user_id varchar, details_json_long_value text",
    "tap_keycloak.admin_event_entity": "id varchar primary key, admin_event_time bigint, "
    "realm_id varchar, operation_type varchar, auth_realm_id varchar, auth_client_id varchar, "
    "auth_user_id varchar, ip_address varchar, resource_path text, representation text, "
    "error varchar, resource_type varchar, details_json text",
    "tap_keycloak.user_entity": "id varchar primary key, email varchar, enabled boolean, "
    "realm_id varchar, username varchar, created_timestamp bigint, "
    "service_account_client_link varchar",
    "tap_keycloak.user_attribute": "id varchar primary key, name varchar, value varchar, "
    "user_id varchar",
    "tap_keycloak.keycloak_role": "id varchar primary key, client_role boolean, name varchar, "
    "realm_id varchar, client varchar",
    "tap_keycloak.user_role_mapping": "role_id varchar, user_id varchar, "
    "primary key (role_id, user_id)",
    "tap_incidents.incident_register": ", ".join(
        f"{c} varchar"
        for c in (
            "incident_id title category severity status detected_at aware_at contained_at "
            "resolved_at suspected_malicious cross_border root_cause_key root_cause "
            "estimated_direct_loss_eur affected_users outage_minutes limited_availability_minutes "
            "cia_compromised is_planned_maintenance linked_alert_ids early_warning_submitted_at "
            "early_warning_ref notification_submitted_at notification_ref "
            "final_report_submitted_at final_report_ref progress_report_submitted_at "
            "progress_report_ref updated_at"
        ).split()
    ),
}
PATHS = [
    ("GET", "/v3/sessions/"),
    ("GET", "/v3/session/{id}/decision/"),
    ("POST", "/v3/session/"),
    ("GET", "/v3/users/"),
    ("PATCH", "/v3/session/{id}/update-status/"),
    ("POST", "/v3/webhook/destinations/"),
    ("GET", "/v3/workflows/"),
]


def create_raw_tables(conn: psycopg.Connection) -> None:
    """Drop and create the raw schemas with the columns target-postgres would create."""
    for schema in ("tap_didit", "tap_wazuh", "tap_keycloak", "tap_incidents"):
        conn.execute(f"drop schema if exists {schema} cascade")
        conn.execute(f"create schema {schema}")
    for table, columns in RAW_DDL.items():
        conn.execute(f"create table {table} ({columns}, {SDC})")


class Generator:
    """Seeded synthetic organisation: members, keys, IPs, and their activity."""

    def __init__(self, seed: int, start: datetime, days: int) -> None:
        self.rng = random.Random(seed)
        self.start = start
        self.days = days
        self.members = [f"member{i}@example.org" for i in range(40)]
        self.kc_users = [str(uuid.UUID(int=self.rng.getrandbits(128))) for _ in range(400)]
        self.ips = [f"198.51.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}" for _ in range(300)]
        self.app = str(uuid.UUID(int=self.rng.getrandbits(128)))

    def _ts(self) -> datetime:
        return self.start + timedelta(seconds=self.rng.uniform(0, self.days * 86400))

    def audit_logs(self, n: int, batched_at: datetime) -> Iterator[tuple]:
        for i in range(n):
            method, path = self.rng.choice(PATHS)
            is_key = self.rng.random() < 0.7
            yield (
                str(uuid.UUID(int=self.rng.getrandbits(128))),
                self._ts(),
                "API_KEY" if is_key else "USER",
                "NIS2 reporting (read-only)" if is_key else self.rng.choice(self.members),
                "NIS2 reporting (read-only)" if is_key else None,
                method,
                path.replace("{id}", str(uuid.UUID(int=self.rng.getrandbits(128)))),
                self.rng.choices([200, 201, 400, 401, 403, 404, 500], [80, 5, 3, 4, 3, 3, 2])[0],
                self.rng.choice(self.ips),
                self.rng.choice(["DE", "DE", "DE", "FR", "NL"]),
                "python-requests/2.32",
                self.app,
                "Production",
                None,
                None,
                batched_at,
                batched_at,
                batched_at,
                None,
                i,
                None,
            )

    def wazuh_alerts(self, n: int, batched_at: datetime) -> Iterator[tuple]:
        for i in range(n):
            ts = self._ts()
            rule = {"id": str(self.rng.choice([5710, 5503, 31101, 550])), "level": 5,
                    "description": "synthetic", "groups": ["authentication_failed"]}
            yield (
                f"{int(ts.timestamp())}.{i}",
                ts.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
                json.dumps(rule),
                json.dumps({"id": "001", "name": "gw-01", "ip": "10.0.0.1"}),
                json.dumps({"name": "wazuh-manager"}),
                json.dumps({"srcip": self.rng.choice(self.ips), "srcuser": "svc"}),
                "/var/log/auth.log",
                "synthetic",
                json.dumps({"name": "sshd"}),
                batched_at, batched_at, batched_at, None, i, None,
            )

    def keycloak_events(self, n: int, batched_at: datetime) -> Iterator[tuple]:
        for i in range(n):
            fail = self.rng.random() < 0.08
            yield (
                str(uuid.UUID(int=self.rng.getrandbits(128))),
                "account-console",
                json.dumps({"username": "u", "auth_method": "openid-connect"}),
                "invalid_user_credentials" if fail else None,
                self.rng.choice(self.ips),
                "org",
                None,
                int(self._ts().timestamp() * 1000),
                "LOGIN_ERROR" if fail else "LOGIN",
                self.rng.choice(self.kc_users),
                None,
                batched_at, batched_at, batched_at, None, i, None,
            )


def copy_rows(conn: psycopg.Connection, table: str, rows: Iterator[tuple]) -> int:
    cols = [
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns "
            "where table_schema || '.' || table_name = %s order by ordinal_position",
            (table,),
        )
    ]
    count = 0
    quoted = ", ".join(f'"{c}"' for c in cols)
    with conn.cursor().copy(f"copy {table} ({quoted}) from stdin") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def load(conn: psycopg.Connection, gen: Generator, audit_rows: int, batched_at: datetime) -> None:
    """Load audit logs plus proportional Wazuh alerts and Keycloak events."""
    copy_rows(conn, "tap_didit.audit_logs", gen.audit_logs(audit_rows, batched_at))
    copy_rows(conn, "tap_wazuh.wazuh_alerts", gen.wazuh_alerts(audit_rows // 10, batched_at))
    copy_rows(conn, "tap_keycloak.event_entity", gen.keycloak_events(audit_rows // 5, batched_at))
