"""An incremental dbt build must leave the marts exactly as a build from scratch would.

The session's pipeline ran twice (tests/conftest.py): the first `dbt build` created everything,
the second ran incrementally over a day of new data plus the rows the taps re-sent. Here the
same project is built from scratch on the same raw tables into another schema, with the vars
and pseudonym key the pipeline's dbt used, and every mart and incremental model is compared
row for row. Only counts are reported: rows may hold personal data.
"""

from __future__ import annotations

import json
import subprocess

import psycopg
import pytest
import yaml
from psycopg import sql

from nis2_settings import ROOT
from tests.transform.conftest import TRANSFORM, dbt_env, dbt_executable

pytestmark = pytest.mark.integration

FULL_SCHEMA = "fullcheck"
PIPELINE_SCHEMA = "analytics"
# Columns that record the history of the builds, not the data: when a day was first sealed and
# how it changed since (mart_nis2_log_retention_integrity is append-only by design).
# columns recording when and how the builds and verifications happened, not what the data says
BUILD_HISTORY = {
    "mart_nis2_log_retention_integrity": {
        "first_sealed_at",
        "change_kind",
        "last_sealed_at",
        "seal_latency_hours",
        "sealed_within_lag",
        "last_verified_at",
        "verification_result",
        "rows_edited",
        "rows_deleted",
        "rows_inserted_behind_loader",
        "verification_failed_at",
        "integrity_status",
        "tamper_detected",
    }
}


# rows judged from that history: Annex 3.2.5 counts days sealed late or not verified since,
# which a build from scratch (every day sealed now, never verified) cannot reproduce
BUILD_HISTORY_ROWS = {
    "int_control_metrics_monthly": "metric_code is distinct from 'log_integrity'",
    "mart_nis2_control_evidence_matrix": "metric_code is distinct from 'log_integrity'",
}


def pipeline_dbt_vars(var_dir) -> dict:
    """The --vars of the pipeline's last dbt invocation (its run_results.json records them): the
    build or the nis2-verify-logs test after it, which meltano.yml gives the same vars."""
    results = json.loads((var_dir / "dbt" / "target" / "run_results.json").read_text())
    return results["args"].get("vars", {})


def demo_pg_options() -> str:
    """PGOPTIONS the demo environment gives dbt (meltano.yml): the pseudonym key it used."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    env = next(e for e in project["environments"] if e["name"] == project["default_environment"])
    dbt = next(u for u in env["config"]["plugins"]["utilities"] if u["name"] == "dbt-postgres")
    return dbt["config"]["pg_options"]


@pytest.fixture(scope="module")
def full_build(pipeline_run, tmp_path_factory) -> subprocess.CompletedProcess:
    """dbt build from scratch into <FULL_SCHEMA>_* on the pipeline's raw tables."""
    work = tmp_path_factory.mktemp("dbt-full")
    env = dbt_env(pipeline_run.conninfo, work, demo_pg_options(), schema=FULL_SCHEMA)
    with psycopg.connect(pipeline_run.conninfo, autocommit=True) as conn:
        for (schema,) in conn.execute(
            "select nspname from pg_namespace where nspname like %s", (f"{FULL_SCHEMA}\\_%",)
        ).fetchall():
            conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))
    vars_json = json.dumps(pipeline_dbt_vars(pipeline_run.var_dir))
    args = ["build", "--exclude-resource-type", "unit_test", "--vars", vars_json]
    return subprocess.run(
        [str(dbt_executable()), *args, "--project-dir", str(TRANSFORM)],
        cwd=TRANSFORM, env=env, capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip


def built_tables(conn: psycopg.Connection, prefix: str) -> dict[str, str]:
    """Tables dbt built under a schema prefix: {table: schema}. Every mart, every intermediate
    table (incremental or not) and the incremental staging event facts."""
    rows = conn.execute(
        "select table_name, table_schema from information_schema.tables "
        "where table_type = 'BASE TABLE' and (table_schema = any(%s) or table_name in ("
        "'stg_didit__audit_logs', 'stg_wazuh__alerts', 'stg_keycloak__events', "
        "'stg_keycloak__admin_events') and table_schema = %s)",
        ([f"{prefix}_nis2", f"{prefix}_intermediate"], f"{prefix}_staging"),
    ).fetchall()
    return dict(rows)


def differing_rows(conn: psycopg.Connection, table: str, left: str, right: str) -> int:
    """Rows in left.table and not in right.table, duplicates counted (EXCEPT ALL)."""
    columns = [
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns "
            "where table_schema = %s and table_name = %s order by column_name",
            (left, table),
        )
        if r[0] not in BUILD_HISTORY.get(table, set())
    ]
    column_list = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    rows = sql.SQL(BUILD_HISTORY_ROWS.get(table, "true"))
    query = sql.SQL(
        "select count(*) from (select {cols} from {left} where {rows} "
        "except all select {cols} from {right} where {rows}) d"
    ).format(
        cols=column_list,
        left=sql.Identifier(left, table),
        right=sql.Identifier(right, table),
        rows=rows,
    )
    return conn.execute(query).fetchone()[0]


def test_full_build_from_scratch_passes(full_build):
    assert full_build.returncode == 0, full_build.stdout[-4000:]


def test_every_mart_after_incremental_runs_equals_a_full_build(pipeline_run, full_build):
    assert full_build.returncode == 0, full_build.stdout[-4000:]
    with psycopg.connect(pipeline_run.conninfo) as conn:
        incremental = built_tables(conn, PIPELINE_SCHEMA)
        full = built_tables(conn, FULL_SCHEMA)
        assert sum(t.startswith("mart_") for t in full) >= 15, sorted(full)
        assert set(incremental) == set(full)
        mismatches = {}
        for table, schema in sorted(full.items()):
            only_incremental = differing_rows(conn, table, incremental[table], schema)
            only_full = differing_rows(conn, table, schema, incremental[table])
            if only_incremental or only_full:
                mismatches[table] = {"only_incremental": only_incremental, "only_full": only_full}
    assert not mismatches, mismatches


def test_the_pipelines_second_build_was_incremental(pipeline_run):
    """The comparison is only worth something if the pipeline's last build took the
    incremental path: it merged into the existing tables, reading only newer loads."""
    target = pipeline_run.var_dir / "dbt" / "target"
    for model, incremental_filter in (
        # the last batch taken, written in as a literal the raw load-time index answers
        ("staging/didit/stg_didit__audit_logs.sql", "where _sdc_batched_at > '"),
        ("marts/nis2/mart_nis2_log_ingestion_gaps.sql", "loaded_at > cast('"),
        ("marts/nis2/mart_nis2_log_source_coverage.sql", "loaded_at > cast('"),
    ):
        executed = (target / "run" / "nis2" / "models" / model).read_text()
        assert executed.lstrip().startswith("delete from"), model
        assert incremental_filter in (target / "compiled" / "nis2" / "models" / model).read_text()


def test_the_raw_event_tables_got_a_load_time_index(pipeline_run):
    """The staging pre-hook indexes the loader's _sdc_batched_at on the big raw event tables,
    so an incremental build finds the new rows without scanning the table."""
    query = """
        select c.relname
        from pg_index as i
        join pg_class as c on c.oid = i.indrelid
        join pg_namespace as n on n.oid = c.relnamespace
        join pg_attribute as a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
        where n.nspname || '.' || c.relname = any(%s) and a.attname = '_sdc_batched_at'
    """
    tables = [
        "tap_didit.audit_logs",
        "tap_wazuh.wazuh_alerts",
        "tap_keycloak.event_entity",
        "tap_keycloak.admin_event_entity",
    ]
    with psycopg.connect(pipeline_run.conninfo) as conn:
        indexed = {row[0] for row in conn.execute(query, (tables,))}
    assert indexed == {t.split(".")[1] for t in tables}
