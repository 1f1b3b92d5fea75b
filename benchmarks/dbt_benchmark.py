"""Benchmark of the dbt project (transform/): full build on 2M Didit audit-log entries plus
proportional Wazuh, Keycloak and incident data, then incremental builds, each after another 1%
of new data (three by default; their median is compared, as single timings on a shared 2-core
machine vary by up to 20%). A benchmark, not a test: it prints numbers and the ratio measured
in the same run.

Raw tables get the columns target-postgres gives them (docs/contracts.md) and are filled with
COPY from a seeded generator: loading 2M rows through the taps would measure the taps, not dbt.
Both builds run on a parsed project, as every scheduled run after a change of the project
does; `dbt parse` is timed and printed on its own.

    .venv/bin/python benchmarks/dbt_benchmark.py [--audit-rows 2000000] [--port 25451]
        [--incremental-runs 3] [--top 5] [--slow-statements N] [--no-fixed-cost] [--keep]

At the end the same builds run once more on a second database whose event tables are empty:
dbt's fixed cost for this project (start-up, artefacts, per-node statements), the floor under
any incremental build, printed beside the data-dependent part of each build.

It starts its own embedded PostgreSQL under var/dbt-bench/ or $DBT_BENCH_DIR (deleted at the
end unless --keep)
and runs dbt from $DBT_BIN, Meltano's dbt-postgres venv, or var/dbt-venv.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import orjson
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.postgres import EmbeddedPostgres, ensure_database  # noqa: E402
from pipeline.register_check import COLUMNS as REGISTER_COLUMNS  # noqa: E402

TRANSFORM = ROOT / "transform"
BENCH_DIR = Path(os.environ.get("DBT_BENCH_DIR", ROOT / "var" / "dbt-bench")).resolve()
DEFAULT_PORT = 25451  # below Linux's ephemeral port range
# Unit tests check legal rules on fixed rows; their cost does not depend on data volume.
# The build is what the daily job runs (meltano.yml dbt-postgres:build): the whole-history
# re-hash of the raw logs is the separate nis2-verify-logs job, timed on its own here.
BUILD = (
    "build", "--exclude-resource-type", "unit_test", "--exclude", "tag:log_integrity_verification"
)  # fmt: skip
VERIFY_LOGS = ("test", "--select", "tag:log_integrity_verification")
# the register's contract: every column the gate requires (pipeline/register_check.py)
INCIDENT_COLUMNS = REGISTER_COLUMNS

# The big event tables are generated inside Postgres; %(name)s are psycopg parameters.
SEED_SQL = "select setseed(%(seed)s)"
AUDIT_SQL = """
insert into tap_didit.audit_logs
select
    gen_random_uuid()::text,
    (%(lo)s::timestamptz + random() * make_interval(secs => %(span)s)) at time zone 'UTC',
    case when k then 'API_KEY' else 'USER' end,
    case when k then key_name else member end, case when k then key_name end,
    case when login then 'POST' when r < 0.8 then 'GET' else 'PATCH' end,
    case when login then '/auth/v2/programmatic/login/'
         when r < 0.6 then '/v3/session/' || gen_random_uuid() || '/decision/'
         when r < 0.8 then '/v3/sessions/?limit=50'
         else '/v3/users/' || gen_random_uuid() || '/update-status/' end,
    case when r2 < 0.03 then 401 when r2 < 0.04 then 403 when r2 < 0.07 then 404
         when r2 < 0.08 then 500 else 200 end,
    case when k then '203.0.113.20' else '198.51.100.' || (10 + m) end, 'DE',
    'python-requests/2.32', %(app_id)s, %(app_name)s,
    case when login then jsonb_build_object('email', member) end, null,
    %(batch)s::timestamp, %(batch)s::timestamp, %(batch)s::timestamp, null, g, null
from (
    select
        g, random() < 0.7 as k, random() as r, random() as r2,
        (array['Backend production', 'Webhook reconciler', 'NIS2 reporting (read-only)'])[
            1 + floor(random() * 3)::int] as key_name,
        m, (%(members)s::text[])[1 + m] as member, random() < 0.02 as login
    from (
        select g, floor(random() * cardinality(%(members)s::text[]))::int as m
        from generate_series(1, %(n)s) as g
    ) as s
) as x
"""
WAZUH_SQL = """
insert into tap_wazuh.wazuh_alerts
select
    floor(extract(epoch from ts))::bigint || '.' || g || '.'
    || extract(epoch from %(batch)s::timestamp),
    to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') || '+0000',
    jsonb_build_object(
        'id', (array['5501', '5710', '100210'])[1 + floor(random() * 3)::int],
        'level', 5, 'description', 'synthetic'),
    jsonb_build_object(
        'id', '001',
        'name', (array['kc-01', 'api-gw-01', 'bastion-01'])[1 + floor(random() * 3)::int]),
    '{"name": "wazuh-manager"}'::jsonb,
    jsonb_build_object('srcip', '198.18.66.23', 'srcuser', 'root'),
    '/var/log/auth.log', 'synthetic', '{"name": "sshd"}'::jsonb,
    %(batch)s::timestamp, %(batch)s::timestamp, %(batch)s::timestamp, null, g, null
from (
    select g, (%(lo)s::timestamptz + random() * make_interval(secs => %(span)s)) as ts
    from generate_series(1, %(n)s / 10) as g
) as s
"""
KEYCLOAK_SQL = """
insert into tap_keycloak.event_entity
select
    gen_random_uuid()::text, 'account-console', '{"auth_method": "openid-connect"}',
    case when f then 'invalid_user_credentials' end,
    '198.51.101.' || (1 + u %% 250), %(realm)s, null,
    floor(extract(epoch from (
        %(lo)s::timestamptz + random() * make_interval(secs => %(span)s))) * 1000)::bigint,
    case when f then 'LOGIN_ERROR' else 'LOGIN' end,
    (%(users)s::text[])[1 + u], null,
    %(batch)s::timestamp, %(batch)s::timestamp, %(batch)s::timestamp, null, g, null
from (
    select g, floor(random() * cardinality(%(users)s::text[]))::int as u, random() < 0.03 as f
    from generate_series(1, %(n)s / 5) as g
) as s
"""

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
    "tap_didit.users": "didit_internal_id varchar primary key, vendor_data varchar, "
    "status varchar, session_count bigint, approved_count bigint, declined_count bigint, "
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
    "tap_keycloak.credential": "id varchar primary key, type varchar, user_id varchar, "
    "created_date bigint, user_label varchar",
    "tap_incidents.incident_register": ", ".join(f"{c} varchar" for c in INCIDENT_COLUMNS),
}


def create_raw_tables(conn: psycopg.Connection) -> None:
    """Create the raw schemas with the columns target-postgres would create."""
    for schema in ("tap_didit", "tap_wazuh", "tap_keycloak", "tap_incidents"):
        conn.execute(f"drop schema if exists {schema} cascade")
        conn.execute(f"create schema {schema}")
    for table, columns in RAW_DDL.items():
        conn.execute(f"create table {table} ({columns}, {SDC})")


def _uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class Generator:
    """A seeded organisation: members, API keys, Keycloak users, hosts and their activity."""

    def __init__(self, seed: int, end: datetime, days: int) -> None:
        self.rng = random.Random(seed)
        self.end = end
        self.days = days
        rng = self.rng
        self.members = [f"member{i}@example.org" for i in range(30)]
        self.member_ip = {m: f"198.51.100.{i + 10}" for i, m in enumerate(self.members)}
        self.keys = ["Backend production", "Webhook reconciler", "NIS2 reporting (read-only)"]
        self.kc_users = [_uid(rng) for _ in range(400)]
        self.kc_ip = {u: f"198.51.101.{i % 250 + 1}" for i, u in enumerate(self.kc_users)}
        self.app = (_uid(rng), "Customer onboarding")
        self.realm = _uid(rng)
        self.roles = {name: _uid(rng) for name in ("employee", "didit-console-admin")}

    def _ts(self, lo: datetime, hi: datetime) -> datetime:
        return lo + timedelta(seconds=self.rng.uniform(0, (hi - lo).total_seconds()))

    def event_sql(
        self, n: int, lo: datetime, hi: datetime, batch: datetime
    ) -> list[tuple[str, dict]]:
        """INSERT ... SELECT over generate_series: the event tables are filled inside Postgres
        (seeded random()), far faster than streaming millions of rows from Python."""
        params = {
            "n": n,
            "lo": lo,
            "span": (hi - lo).total_seconds(),
            "batch": batch,
            "members": self.members,
            "users": self.kc_users,
            "app_id": self.app[0],
            "app_name": self.app[1],
            "realm": self.realm,
            "seed": (n % 997) / 997,
        }
        return [
            (SEED_SQL, params),
            (AUDIT_SQL, params),
            (WAZUH_SQL, params),
            (KEYCLOAK_SQL, params),
        ]

    def admin_events(self, n: int, lo: datetime, hi: datetime, batch: datetime) -> Iterator:
        rng = self.rng
        for i in range(n):
            user = rng.choice(self.kc_users)
            role = rng.choice(list(self.roles))
            rep = orjson.dumps([{"id": self.roles[role], "name": role}]).decode()
            details = '{"approval_ticket_id": "ACC-1"}' if rng.random() < 0.9 else None
            yield (
                _uid(rng), int(self._ts(lo, hi).timestamp() * 1000), self.realm, "CREATE",
                self.realm, "security-admin-console", self.kc_users[0], "198.51.101.1",
                f"users/{user}/role-mappings/realm", rep, None, "REALM_ROLE_MAPPING", details,
                batch, batch, batch, None, i, None,
            )  # fmt: skip

    def reference_rows(self, batch: datetime) -> dict[str, list[tuple]]:
        meta = (batch, batch, batch, None, 0, None)
        created = int((self.end - timedelta(days=self.days)).timestamp() * 1000)
        users = [
            (u, f"user{i}@example.org", True, self.realm, f"user{i}", created, None, *meta)
            for i, u in enumerate(self.kc_users)
        ]
        roles = [(rid, False, name, self.realm, None, *meta) for name, rid in self.roles.items()]
        mappings = [(self.roles["employee"], u, *meta) for u in self.kc_users]
        credentials = [
            (_uid(self.rng), kind, u, created, None, *meta)
            for i, u in enumerate(self.kc_users)
            for kind in (("password", "otp") if i % 2 else ("password",))
        ]
        end_day = (self.end - timedelta(days=30)).date().isoformat()
        attributes = [
            (_uid(self.rng), "employment_end_date", end_day, u, *meta) for u in self.kc_users[:5]
        ]
        incidents = []
        for n in range(30):
            aware = self.end - timedelta(days=10 * n + 3)
            row = dict.fromkeys(INCIDENT_COLUMNS, "")
            row.update(
                incident_id=f"INC-BENCH-{n:04d}", title="synthetic", category="availability",
                severity="low", status="closed", detected_at=aware.isoformat(),
                aware_at=aware.isoformat(), resolved_at=(aware + timedelta(hours=5)).isoformat(),
                suspected_malicious="no", cross_border="false", root_cause_key=f"RC-{n % 4}",
                estimated_direct_loss_eur=str(1000 * n), affected_users="10",
                outage_minutes="0", limited_availability_minutes="30", cia_compromised="false",
                is_planned_maintenance="false", updated_at=aware.isoformat(),
            )  # fmt: skip
            incidents.append((*row.values(), *meta))
        return {
            "tap_keycloak.user_entity": users,
            "tap_keycloak.keycloak_role": roles,
            "tap_keycloak.user_role_mapping": mappings,
            "tap_keycloak.credential": credentials,
            "tap_keycloak.user_attribute": attributes,
            "tap_incidents.incident_register": incidents,
        }


def copy_rows(conn: psycopg.Connection, table: str, rows) -> int:
    """COPY rows into a raw table in its column order; returns how many."""
    schema, name = table.split(".")
    cols = [
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns "
            "where table_schema = %s and table_name = %s order by ordinal_position",
            (schema, name),
        )
    ]
    quoted = ", ".join(f'"{c}"' for c in cols)
    count = 0
    with conn.cursor().copy(f"copy {table} ({quoted}) from stdin") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def load_events(
    conn: psycopg.Connection,
    gen: Generator,
    audit_rows: int,
    lo: datetime,
    hi: datetime,
    batch: datetime,
) -> dict[str, int]:
    """Audit logs plus proportional Wazuh alerts, Keycloak events and admin events."""
    counts = {}
    for statement, params in gen.event_sql(audit_rows, lo, hi, batch):
        cursor = conn.execute(statement, params)
        if statement.lstrip().startswith("insert"):
            counts[statement.split()[2]] = cursor.rowcount
    counts["tap_keycloak.admin_event_entity"] = copy_rows(
        conn,
        "tap_keycloak.admin_event_entity",
        gen.admin_events(max(audit_rows // 2000, 10), lo, hi, batch),
    )
    return counts  # fmt: skip


def dbt_executable() -> Path:
    for candidate in (
        os.environ.get("DBT_BIN"),
        ROOT / ".meltano" / "utilities" / "dbt-postgres" / "venv" / "bin" / "dbt",
        ROOT / "var" / "dbt-venv" / "bin" / "dbt",
    ):
        if candidate and Path(candidate).exists():
            return Path(candidate)
    raise SystemExit("dbt not found: run `make demo` first or set DBT_BIN")


class DbtRun(NamedTuple):
    wall: float  # seconds on the clock, dbt's start-up included
    cpu: float  # CPU seconds of the dbt process itself (user + system), not the database's


def run_dbt(port: int, *args: str, database: str = "warehouse", target: str = "target") -> DbtRun:
    """Run dbt and time it. Exits with dbt's output if it fails.
    target: dbt's target folder under the benchmark folder (its saved parse and results)."""
    env = {
        **os.environ,
        "DBT_POSTGRES_HOST": "127.0.0.1",
        "DBT_POSTGRES_PORT": str(port),
        "DBT_POSTGRES_USER": "postgres",
        "DBT_POSTGRES_DBNAME": database,
        "DBT_TARGET": "ci",
        "DBT_PROFILES_DIR": str(TRANSFORM / "profiles"),
        "DBT_TARGET_PATH": str(BENCH_DIR / target),
        "DBT_LOG_PATH": str(BENCH_DIR / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "PGOPTIONS": "-c nis2.pseudonym_key=benchmark-pseudonym-key",
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        [str(dbt_executable()), *args, "--project-dir", str(TRANSFORM)],
        env=env, capture_output=True, text=True, check=False, cwd=TRANSFORM,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        print(result.stdout[-5000:], result.stderr[-2000:], sep="\n")
        raise SystemExit(f"dbt {' '.join(args)} failed")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return DbtRun(elapsed, cpu)


def phase_results(phase: str, target: str = "target") -> dict:
    """The run_results.json dbt left for a phase, kept as run_results_<phase>.json because the
    next dbt run overwrites it."""
    kept = BENCH_DIR / f"run_results_{phase.replace(' ', '_')}.json"
    shutil.copyfile(BENCH_DIR / target / "run_results.json", kept)
    return json.loads(kept.read_text())


def print_phase(phase: str, run: DbtRun, top: int, target: str = "target") -> None:
    """Wall time, dbt's own elapsed time (without start-up and parsing) and CPU time, the
    slowest nodes."""
    results = phase_results(phase, target)
    timed = ((n["execution_time"], n["unique_id"]) for n in results["results"])
    nodes = sorted(timed, reverse=True)
    print(
        f"{phase + ' dbt build:':<36}{run.wall:6.1f}s  "
        f"(dbt elapsed {results['elapsed_time']:.1f}s, "
        f"{len(nodes)} nodes, node time summed {sum(t for t, _ in nodes):.1f}s, "
        f"dbt process CPU {run.cpu:.1f}s)",
        flush=True,
    )
    for node_seconds, node in nodes[:top]:
        print(f"    {node_seconds:6.1f}s  {node}", flush=True)


SLOW_STATEMENT_MS = 100
LOG_ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d", re.M)
DURATION = re.compile(r"duration: ([\d.]+) ms\s+statement: (.*)", re.S)
NODE_ID = re.compile(r'"node_id": "[^"]*?\.([^".]+)"')


def log_statements(dsn: str, on: bool) -> None:
    """Have the server log every statement slower than SLOW_STATEMENT_MS (or stop that)."""
    setting = f"= {SLOW_STATEMENT_MS}" if on else "to default"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"alter system set log_min_duration_statement {setting}")
        conn.execute("select pg_reload_conf()")


def print_slow_statements(log_file: Path, offset: int, top: int) -> None:
    """The slowest statements the server logged since `offset`, with the dbt node each ran for
    (from dbt's query comment): which step of a node (CTAS, index, hook) takes the time."""
    with log_file.open(encoding="utf-8", errors="replace") as log:
        log.seek(offset)
        text = log.read()
    starts = [m.start() for m in LOG_ENTRY.finditer(text)] + [len(text)]
    slow = []
    for begin, end in itertools.pairwise(starts):
        found = DURATION.search(text, begin, end)
        if found:
            statement = " ".join(found.group(2).split())
            node = NODE_ID.search(statement)
            sql = re.sub(r"/\*.*?\*/", "", statement).strip()
            slow.append((float(found.group(1)) / 1000, node.group(1) if node else "-", sql))
    for seconds, node, sql in sorted(slow, reverse=True)[:top]:
        print(f"    {seconds:6.2f}s  {node:<40} {sql[:60]}", flush=True)


FIXED_COST_DB = "warehouse_no_events"


def conninfo(port: int, dbname: str) -> str:
    return f"host=127.0.0.1 port={port} user=postgres dbname={dbname}"


def fresh_warehouse(port: int, dbname: str, gen: Generator, batch: datetime) -> dict[str, int]:
    """An empty database with the raw tables and the reference rows (users, roles, incidents);
    returns the rows copied per table. The event tables stay empty."""
    admin = conninfo(port, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"drop database if exists {dbname} with (force)")
    ensure_database(admin, dbname)
    with psycopg.connect(conninfo(port, dbname)) as conn:
        create_raw_tables(conn)
        return {
            table: copy_rows(conn, table, rows) for table, rows in gen.reference_rows(batch).items()
        }


def fixed_cost(
    port: int, gen: Generator, batch: datetime, incremental_runs: int
) -> tuple[float, float, float]:
    """dbt's start-up alone (a build that selects no node), then the same builds on a warehouse
    whose event tables are empty (reference rows only): what dbt costs for this project
    whatever the volume (start-up, artefacts, per-node statements and bookkeeping), which any
    incremental build pays too. Wall seconds; the incremental one is a median, as in the main
    phase."""
    fresh_warehouse(port, FIXED_COST_DB, gen, batch)
    fixed = {"database": FIXED_COST_DB, "target": "target-no-events"}
    run_dbt(port, "parse", **fixed)
    start_up = run_dbt(port, *BUILD, "--select", "tag:benchmark_selects_nothing", **fixed)
    print(f"dbt start-up alone (a build that selects no node): {start_up.wall:.1f}s", flush=True)
    full = run_dbt(port, *BUILD, **fixed)
    print_phase("fixed-cost full", full, 0, fixed["target"])
    incremental = []
    for run in range(1, incremental_runs + 1):
        incremental.append(run_dbt(port, *BUILD, **fixed))
        print_phase(f"fixed-cost incremental {run}", incremental[-1], 0, fixed["target"])
    return start_up.wall, full.wall, statistics.median(build.wall for build in incremental)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audit-rows", type=int, default=2_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--top", type=int, default=5, help="slowest nodes shown per phase")
    parser.add_argument(
        "--incremental-runs", type=int, default=3,
        help="incremental builds, each after another 1%% of new data; the median is compared",
    )  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep var/dbt-bench afterwards")
    parser.add_argument(
        "--slow-statements", type=int, default=0, metavar="N",
        help=f"also print the N slowest SQL statements (over {SLOW_STATEMENT_MS} ms) per build",
    )  # fmt: skip
    parser.add_argument(
        "--no-fixed-cost", dest="fixed_cost", action="store_false",
        help="skip the closing builds on empty event tables that measure dbt's fixed cost",
    )  # fmt: skip
    args = parser.parse_args()

    server = EmbeddedPostgres(BENCH_DIR / "pg", args.port)
    server.start()
    admin = conninfo(args.port, "postgres")
    try:
        dsn = conninfo(args.port, "warehouse")
        if args.slow_statements:
            log_statements(admin, True)
        end = datetime.now(UTC).replace(microsecond=0)
        gen = Generator(seed=7, end=end, days=args.days)
        first_batch = end - timedelta(hours=2)
        t0 = time.perf_counter()
        counts = fresh_warehouse(args.port, "warehouse", gen, first_batch)
        with psycopg.connect(dsn) as conn:
            counts |= load_events(
                conn, gen, args.audit_rows, end - timedelta(days=args.days),
                end - timedelta(days=1), first_batch,
            )  # fmt: skip
            conn.commit()
            conn.execute("analyze")
        print(f"raw load (COPY): {time.perf_counter() - t0:.1f}s  {counts}", flush=True)

        # Parsing the project depends on its files, not on the data: once per change of the
        # project, after which every run reads dbt's saved parse. Timed on its own.
        parse = run_dbt(args.port, "parse").wall
        print(f"dbt parse (once per project change, not in the builds): {parse:.1f}s", flush=True)
        offset = server.log_file.stat().st_size
        full = run_dbt(args.port, *BUILD)
        print_phase("full", full, args.top)
        if args.slow_statements:
            print_slow_statements(server.log_file, offset, args.slow_statements)

        # Several incremental builds, each after another 1 % of new data (one more load a few
        # minutes later): single timings on a shared 2-core machine vary by up to 20 %.
        new_rows = args.audit_rows // 100
        incremental = []
        for run in range(1, args.incremental_runs + 1):
            with psycopg.connect(dsn) as conn:
                batch = end - timedelta(minutes=10) + timedelta(minutes=run)
                added = load_events(conn, gen, new_rows, end - timedelta(days=1), end, batch)
                conn.commit()
                conn.execute("analyze")
            print(f"added 1% new data: {added}", flush=True)
            offset = server.log_file.stat().st_size
            incremental.append(run_dbt(args.port, *BUILD))
            print_phase(f"incremental {run}", incremental[-1], args.top if run == 1 else 0)
            if args.slow_statements and run == 1:
                print_slow_statements(server.log_file, offset, args.slow_statements)
        median = statistics.median(build.wall for build in incremental)
        print(f"incremental, median of {len(incremental)}: {median:.1f}s")
        print(f"incremental / full:    {median / full.wall:6.1%}  (target <= 20%)")
        verify = run_dbt(args.port, *VERIFY_LOGS).wall
        print(f"nis2-verify-logs (re-hash of every raw log row, own job): {verify:.1f}s")
        if args.fixed_cost:
            # Measured after the main builds, on the same server: what no change to the SQL
            # can save, and so how much of each build depends on the data at all.
            start_up, fixed_full, floor = fixed_cost(
                args.port, gen, first_batch, args.incremental_runs
            )
            print(
                f"fixed cost (same builds, event tables empty): full {fixed_full:.1f}s, "
                f"incremental {floor:.1f}s (median), of which dbt's start-up {start_up:.1f}s\n"
                f"data-dependent part: full {full.wall - fixed_full:.1f}s, "
                f"incremental {median - floor:.1f}s\n"
                f"20% of this full build is {0.2 * full.wall:.1f}s; with no new data at all an "
                f"incremental build takes {floor:.1f}s here ({floor / full.wall:.0%} of it)",
                flush=True,
            )
    finally:
        if args.slow_statements:
            log_statements(admin, False)
        server.stop()
        if not args.keep:
            shutil.rmtree(BENCH_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
