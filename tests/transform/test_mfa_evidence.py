"""M10 evidence when an account changes after its log-ins were judged (review finding M10).

int_keycloak_logins_mfa is incremental: a later build must judge past log-ins again when
what they were judged on changed. On a copy of the pipeline's warehouse (the raw rows are
edited here, which no other test may see), a REMOVE_CREDENTIAL event arrives late for an
account whose credential row is still loaded, and the loader finds a privileged role mapping
gone; an incremental build must then equal a build from scratch, the log-ins after the
removal no longer count as MFA and the earlier ones still do. Only counts are reported.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from tests.transform.conftest import TRANSFORM, dbt_env, dbt_executable
from tests.transform.test_incremental_equals_full import demo_pg_options, pipeline_dbt_vars

pytestmark = pytest.mark.integration

COPY_DB = "nis2_mfa_check"
MODEL = sql.Identifier("analytics_intermediate", "int_keycloak_logins_mfa")
SAVED = sql.Identifier("public", "mfa_incremental")


def _create_copy(admin_conninfo: str) -> None:
    """CREATE DATABASE ... TEMPLATE needs the warehouse idle: retry while a session ends."""
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{COPY_DB}" with (force)')
        for attempt in range(10):
            try:
                conn.execute(f'create database "{COPY_DB}" template warehouse')
                return
            except psycopg.errors.ObjectInUse:
                if attempt == 9:
                    raise
                time.sleep(1)


@pytest.fixture(scope="module")
def copy_conninfo(pipeline_run, admin_conninfo) -> Iterator[str]:
    _create_copy(admin_conninfo)
    yield pipeline_run.conninfo.replace("dbname=warehouse", f"dbname={COPY_DB}")
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{COPY_DB}" with (force)')


@pytest.fixture(scope="module")
def dbt_on_copy(pipeline_run, copy_conninfo, tmp_path_factory):
    """dbt with the pipeline's vars and pseudonym key, aimed at the copy."""
    work = tmp_path_factory.mktemp("dbt-mfa")
    env = dbt_env(copy_conninfo, work, demo_pg_options(), dbname=COPY_DB)
    vars_json = json.dumps(pipeline_dbt_vars(pipeline_run.var_dir))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(dbt_executable()), *args, "--vars", vars_json, "--project-dir", str(TRANSFORM)],
            cwd=TRANSFORM, env=env, capture_output=True, text=True, check=False, timeout=900,
        )  # fmt: skip

    run.target_path = work / "target"  # type: ignore[attr-defined]
    return run


def _late_changes(conninfo: str) -> dict:
    """Back-date a REMOVE_CREDENTIAL for the OTP holder with the most log-ins (its credential
    row stays loaded) and mark an administrator's role mappings as seen gone by the loader;
    return whose."""
    with psycopg.connect(conninfo, row_factory=dict_row) as conn:
        holder = conn.execute(
            """
            select c.user_id, c.id as credential_id,
                   percentile_disc(0.5) within group (order by e.event_time) as removed_ms
            from tap_keycloak.credential as c
            join tap_keycloak.event_entity as e on e.user_id = c.user_id
            where c.type = 'otp' and c._sdc_deleted_at is null
                and e.type = 'LOGIN' and e.error is null
            group by c.user_id, c.id, c.created_date
            having min(e.event_time) > c.created_date
            order by count(*) desc, c.user_id
            limit 1
            """
        ).fetchone()
        loaded = conn.execute(
            "select max(_sdc_batched_at) + interval '1 hour' as at from tap_keycloak.event_entity"
        ).fetchone()["at"]
        conn.execute(
            """
            insert into tap_keycloak.event_entity
            select (jsonb_populate_record(
                null::tap_keycloak.event_entity, to_jsonb(e) || jsonb_build_object(
                'id', 'late-removal-' || e.id, 'type', 'REMOVE_CREDENTIAL', 'error', null,
                'client_id', 'account-console', 'session_id', null,
                'event_time', cast(%(ms)s as bigint),
                'details_json', jsonb_build_object(
                    'credential_type', 'otp', 'credential_id', cast(%(cid)s as text))::text,
                '_sdc_batched_at', %(at)s, '_sdc_received_at', %(at)s,
                '_sdc_extracted_at', %(at)s))).*
            from tap_keycloak.event_entity as e
            where e.user_id = %(uid)s
            limit 1
            """,
            {"ms": holder["removed_ms"], "cid": holder["credential_id"],
             "uid": holder["user_id"], "at": loaded},
        )  # fmt: skip
        # an administrator with no role change on record: held since before the history
        revoked = conn.execute(
            """
            update tap_keycloak.user_role_mapping as m
            set _sdc_deleted_at = %(at)s, _sdc_batched_at = %(at)s
            from tap_keycloak.keycloak_role as r
            where r.id = m.role_id and r.name != 'employee' and m._sdc_deleted_at is null
                and m.user_id = (
                    select min(m2.user_id) from tap_keycloak.user_role_mapping as m2
                    join tap_keycloak.keycloak_role as r2 on r2.id = m2.role_id
                    where r2.name = 'security-admin' and m2._sdc_deleted_at is null
                        and not exists (
                            select 1 from tap_keycloak.admin_event_entity as a
                            where a.resource_path like 'users/' || m2.user_id || '/%%'
                        )
                )
            returning m.user_id
            """,
            {"at": loaded},
        ).fetchone()
    return {**holder, "revoked_user_id": revoked["user_id"]}


def _split(conninfo: str, user_id: str, at_ms: int) -> dict[tuple[bool, bool], int]:
    """The account's log-ins counted by (after the removal, has_mfa)."""
    at = datetime.fromtimestamp(at_ms / 1000, tz=UTC)
    with psycopg.connect(conninfo) as conn:
        query = sql.SQL(
            "select event_ts >= %s, has_mfa, count(*) from {} where user_id = %s group by 1, 2"
        ).format(MODEL)
        rows = conn.execute(query, (at, user_id)).fetchall()
    return {(after, mfa): n for after, mfa, n in rows}


def _differing(conninfo: str, left: sql.Identifier, right: sql.Identifier) -> int:
    with psycopg.connect(conninfo) as conn:
        cols = sql.SQL(", ").join(
            sql.Identifier(r[0])
            for r in conn.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'analytics_intermediate' "
                "and table_name = 'int_keycloak_logins_mfa' order by column_name"
            )
        )
        query = sql.SQL(
            "select count(*) from (select {c} from {l} except all select {c} from {r}) as d"
        ).format(c=cols, l=left, r=right)
        return conn.execute(query).fetchone()[0]


def _privileged_logins(conninfo: str, user_id: str) -> int:
    query = sql.SQL(
        "select count(*) from {} where user_id = %s and principal_class = 'privileged'"
    ).format(MODEL)
    with psycopg.connect(conninfo) as conn:
        return conn.execute(query, (user_id,)).fetchone()[0]


def test_late_removal_and_revoked_role_recompute_past_logins_like_a_full_build(
    copy_conninfo, dbt_on_copy
):
    changed = _late_changes(copy_conninfo)
    before = _split(copy_conninfo, changed["user_id"], changed["removed_ms"])
    assert before.get((True, True), 0) > 0, "the account had MFA log-ins after the instant"
    privileged_before = _privileged_logins(copy_conninfo, changed["revoked_user_id"])
    assert privileged_before > 0

    incremental = dbt_on_copy("run", "-s", "+int_keycloak_logins_mfa")
    assert incremental.returncode == 0, incremental.stdout[-4000:]
    executed = dbt_on_copy.target_path / "run/nis2/models/intermediate/int_keycloak_logins_mfa.sql"
    assert executed.read_text().lstrip().startswith("delete from"), "not the incremental path"

    after = _split(copy_conninfo, changed["user_id"], changed["removed_ms"])
    assert after.get((True, True), 0) == 0
    assert after.get((True, False), 0) == before.get((True, True), 0) + before.get((True, False), 0)
    assert after.get((False, True), 0) == before.get((False, True), 0) > 0
    privileged_after = _privileged_logins(copy_conninfo, changed["revoked_user_id"])
    with psycopg.connect(copy_conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("create table {} as select * from {}").format(SAVED, MODEL))
    # a mapping held since before the admin-event history and now gone: never privileged
    assert privileged_after == 0

    full = dbt_on_copy("run", "-s", "int_keycloak_logins_mfa", "--full-refresh")
    assert full.returncode == 0, full.stdout[-4000:]
    assert _differing(copy_conninfo, SAVED, MODEL) == 0
    assert _differing(copy_conninfo, MODEL, SAVED) == 0
