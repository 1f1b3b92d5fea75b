"""One pseudonym key at a time (issue: after a key change one mart used the new key and an
incremental one kept the old). On a copy of the session pipeline's warehouse: a build with
another key stops before writing anything, a partial full refresh is refused too, a full
refresh of the whole project re-pseudonymises every mart, and the report refuses a key that is
not the marts'. Pseudonyms are recomputed here with the documented formula (HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac
import re
import subprocess
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from report.postgres_source import PostgresSource
from report.pseudonyms import PseudonymKeyMismatchError, check_key_matches, key_id
from tests.transform.conftest import TRANSFORM, dbt_env, dbt_executable
from tests.transform.ground_truth import MART_SCHEMA
from tests.transform.test_incremental_equals_full import demo_pg_options

pytestmark = pytest.mark.integration

COPY_DB = "warehouse_pseudonym_key"
# the key the pipeline's dbt used (meltano.yml's demo environment)
DEMO_KEY = re.search(r"nis2\.pseudonym_key=(\S+)", demo_pg_options())[1].encode()
ONE_MART = "mart_nis2_access_anomalies"
NEW_KEY = b"a-new-pseudonym-key-for-this-test"
# marts that pseudonymise people or addresses, incremental ones first (they kept the old key)
KEYED = {
    "mart_nis2_auth_failure_detections": ("principal_key", "src_ip_key"),
    "mart_nis2_privileged_activity": ("actor_key", "target_principal_key"),
    "mart_nis2_access_anomalies": ("principal_key",),
    "mart_nis2_access_review_status": ("principal_key",),
}


def _pseudonym(key: bytes, value: str) -> str:
    return "p_" + hmac.new(key, value.lower().encode(), hashlib.sha256).hexdigest()[:24]


@pytest.fixture(scope="module")
def copy_conninfo(pipeline_run, admin_conninfo) -> Iterator[str]:
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{COPY_DB}" with (force)')
        conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity "
            "where datname = 'warehouse' and pid <> pg_backend_pid()"
        )
        conn.execute(f'create database "{COPY_DB}" template warehouse')
    yield pipeline_run.conninfo.replace("dbname=warehouse", f"dbname={COPY_DB}")
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{COPY_DB}" with (force)')


def _dbt(conninfo: str, key: bytes, tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = dbt_env(conninfo, tmp_path, f"-c nis2.pseudonym_key={key.decode()}", dbname=COPY_DB)
    return subprocess.run(
        [str(dbt_executable()), *args, "--project-dir", str(TRANSFORM)],
        cwd=TRANSFORM,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def _identities(conninfo: str) -> set[str]:
    """Every value the marts may pseudonymise: accounts, e-mails, addresses, actors."""
    queries = (
        "select email from analytics_staging.stg_keycloak__users",
        "select username from analytics_staging.stg_keycloak__users",
        "select user_id from analytics_staging.stg_keycloak__users",
        "select ip_address from analytics_staging.stg_keycloak__events",
        "select actor from analytics_staging.stg_didit__audit_logs",
        "select ip_address from analytics_staging.stg_didit__audit_logs",
        "select principal from analytics_intermediate.int_auth_events",
        "select src_ip from analytics_intermediate.int_auth_events",
    )
    values: set[str] = set()
    with psycopg.connect(conninfo) as conn:
        for query in queries:
            values |= {row[0] for row in conn.execute(query) if row[0]}
    return values


def _keyed_values(conninfo: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    with psycopg.connect(conninfo) as conn:
        for mart, columns in KEYED.items():
            for column in columns:
                query = sql.SQL("select distinct {} from {}.{} where {} is not null").format(
                    sql.Identifier(column),
                    sql.Identifier(MART_SCHEMA),
                    sql.Identifier(mart),
                    sql.Identifier(column),
                )
                found[f"{mart}.{column}"] = {row[0] for row in conn.execute(query)}
    return found


def test_a_build_with_another_key_stops_naming_key_ids_not_keys(copy_conninfo, tmp_path):
    before = _keyed_values(copy_conninfo)
    result = _dbt(
        copy_conninfo, NEW_KEY, tmp_path, "build", "--select", "mart_nis2_access_anomalies"
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "The pseudonym key changed" in output
    assert key_id(DEMO_KEY) in output
    assert key_id(NEW_KEY) in output
    assert DEMO_KEY.decode() not in output
    assert NEW_KEY.decode() not in output
    assert _keyed_values(copy_conninfo) == before, "nothing was written"
    partial = _dbt(
        copy_conninfo,
        NEW_KEY,
        tmp_path,
        "run",
        "--full-refresh",
        "--select",
        "mart_nis2_access_anomalies",
    )
    assert partial.returncode != 0, "a full refresh of part of the project would mix keys"
    assert "The pseudonym key changed" in partial.stdout + partial.stderr


def test_a_whole_project_full_refresh_re_pseudonymises_every_mart(copy_conninfo, tmp_path):
    rebuilt = _dbt(
        copy_conninfo,
        NEW_KEY,
        tmp_path,
        "build",
        "--full-refresh",
        "--exclude",
        "tag:log_integrity_verification",
    )
    assert rebuilt.returncode == 0, rebuilt.stdout[-4000:]
    identities = _identities(copy_conninfo)
    old = {_pseudonym(DEMO_KEY, v) for v in identities}
    new = {_pseudonym(NEW_KEY, v) for v in identities}
    values = _keyed_values(copy_conninfo)
    assert all(values.values()), f"every keyed column has values: {values.keys()}"
    leftovers = {column: found & old for column, found in values.items() if found & old}
    assert leftovers == {}, "pseudonyms of the old key survived the full refresh"
    assert all(found & new for found in values.values()), "every column carries the new key"
    again = _dbt(
        copy_conninfo, NEW_KEY, tmp_path, "build", "--select", "mart_nis2_access_anomalies"
    )
    assert again.returncode == 0, "the new key is recorded: incremental builds go on"
    recorded = PostgresSource(copy_conninfo, schema=MART_SCHEMA).pseudonym_key_id()
    assert recorded == key_id(NEW_KEY)
    with pytest.raises(PseudonymKeyMismatchError, match=key_id(DEMO_KEY)):
        check_key_matches(DEMO_KEY, recorded)
    check_key_matches(NEW_KEY, recorded)
