"""Loading the Keycloak tables into a real PostgreSQL: Keycloak's DDL, idempotent re-runs."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from conftest import CALLS_PER_DAY, DAYS, END

from nis2_settings import ROOT
from pipeline.postgres import EmbeddedPostgres, ensure_database, port_in_use
from simulator.keycloak_db import load_keycloak
from simulator.keycloak_gen import SECRET_MARKER, TABLES
from simulator.world import generate_world

DEFAULT_FIRST_PORT = 25440  # demo 25432, pipeline 25460; below the ephemeral range
FIRST_PORT = int(os.environ.get("SIM_TEST_PG_PORT", str(DEFAULT_FIRST_PORT)))


def _free_port() -> int:
    """The first free port from FIRST_PORT: test runs in parallel must not collide."""
    for port in range(FIRST_PORT, FIRST_PORT + 15):
        if not port_in_use("127.0.0.1", port):
            return port
    raise RuntimeError(f"no free port in {FIRST_PORT}..{FIRST_PORT + 14}")


@pytest.fixture(scope="module")
def conninfo() -> Iterator[str]:
    port = _free_port()
    folder = ROOT / "var" / "simtest-pg" / str(os.getpid())
    server = EmbeddedPostgres(folder, port)
    server.start()
    admin = f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS keycloak_simtest")
    ensure_database(admin, "keycloak_simtest")
    yield f"host=127.0.0.1 port={port} user=postgres dbname=keycloak_simtest"
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


def _file_rows(world: Path, table: str) -> int:
    return len((world / "keycloak" / f"{table}.jsonl").read_bytes().splitlines())


def _db_rows(conninfo: str, table: str) -> int:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(f"SELECT count(*) FROM public.{table}").fetchone()[0]  # noqa: S608


def test_first_load_creates_the_tables_and_inserts_every_row(conninfo, world):
    changed = load_keycloak(conninfo, world / "keycloak")
    for table in TABLES:
        assert changed[table] == _file_rows(world, table) == _db_rows(conninfo, table), table


def test_a_second_load_of_the_same_files_changes_nothing(conninfo, world):
    load_keycloak(conninfo, world / "keycloak")
    assert set(load_keycloak(conninfo, world / "keycloak").values()) == {0}


def test_columns_are_keycloaks_own(conninfo, world):
    load_keycloak(conninfo, world / "keycloak")
    with psycopg.connect(conninfo) as conn:
        cols = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'event_entity' ORDER BY ordinal_position"
        ).fetchall()
    assert cols == [
        ("id", "character varying"),
        ("client_id", "character varying"),
        ("details_json", "character varying"),
        ("error", "character varying"),
        ("ip_address", "character varying"),
        ("realm_id", "character varying"),
        ("session_id", "character varying"),
        ("event_time", "bigint"),
        ("type", "character varying"),
        ("user_id", "character varying"),
        ("details_json_long_value", "text"),
    ]


def test_a_later_world_adds_only_new_events_and_updates_changed_users(conninfo, world, tmp_path):
    load_keycloak(conninfo, world / "keycloak")
    later = tmp_path / "later"
    generate_world(
        later,
        seed=7,
        days=DAYS,
        api_calls_per_day=CALLS_PER_DAY,
        end=END + timedelta(days=2),
        start=(END - timedelta(days=DAYS)).date(),
    )
    changed = load_keycloak(conninfo, later / "keycloak")
    new_events = _file_rows(later, "event_entity") - _file_rows(world, "event_entity")
    assert changed["event_entity"] == new_events > 0
    assert _db_rows(conninfo, "event_entity") == _file_rows(later, "event_entity")
    users = [json.loads(x) for x in (later / "keycloak/user_entity.jsonl").read_text().split()]
    with psycopg.connect(conninfo) as conn:
        enabled = dict(conn.execute("SELECT id, enabled FROM public.user_entity").fetchall())
    assert enabled == {u["id"]: u["enabled"] for u in users}


@pytest.fixture(scope="module")
def before_revocation(tmp_path_factory, ground_truth) -> Path:
    """The same organisation generated up to a day between the temporary grant and its
    revocation (same anchor), so the mapping is still current there."""
    (revoked,) = ground_truth["role_revocations"]
    out = tmp_path_factory.mktemp("before-revocation")
    end = datetime.fromisoformat(revoked["revoked_at"]) - timedelta(days=1)
    assert end > datetime.fromisoformat(revoked["granted_at"])
    generate_world(
        out,
        seed=7,
        days=DAYS,
        api_calls_per_day=CALLS_PER_DAY,
        end=end,
        start=(END - timedelta(days=DAYS)).date(),
    )
    return out


def _mappings(conninfo: str) -> set[tuple[str, str]]:
    with psycopg.connect(conninfo) as conn:
        return set(conn.execute("SELECT role_id, user_id FROM public.user_role_mapping"))


def _file_mappings(world: Path) -> set[tuple[str, str]]:
    rows = (world / "keycloak" / "user_role_mapping.jsonl").read_text().split()
    return {(r["role_id"], r["user_id"]) for r in map(json.loads, rows)}


def test_a_revoked_role_mapping_is_deleted_by_the_next_load(
    conninfo, world, ground_truth, before_revocation
):
    (revoked,) = ground_truth["role_revocations"]
    mapping = (revoked["role_id"], revoked["user_id"])
    early_truth = json.loads((before_revocation / "ground_truth.json").read_text())
    assert early_truth["role_revocations"] == []
    load_keycloak(conninfo, before_revocation / "keycloak")
    assert mapping in _mappings(conninfo)
    changed = load_keycloak(conninfo, world / "keycloak")
    before, after = _file_mappings(before_revocation), _file_mappings(world)
    assert before - after == {mapping}
    assert changed["user_role_mapping"] == len(after - before) + 1
    assert _mappings(conninfo) == after
    with psycopg.connect(conninfo) as conn:
        (details,) = conn.execute(
            "SELECT details_json FROM public.admin_event_entity WHERE operation_type = 'DELETE' "
            "AND resource_path = %s",
            (f"users/{revoked['user_id']}/role-mappings/realm",),
        ).fetchone()
    assert json.loads(details) == {"approval_ticket_id": revoked["approval_ticket_id"]}


def test_a_missing_folder_is_a_clear_error(conninfo, tmp_path):
    with pytest.raises(FileNotFoundError, match="didit-simulator generate"):
        load_keycloak(conninfo, tmp_path / "nowhere")


def _credential_types(conninfo: str, user_id: str) -> set[str]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute("SELECT type FROM public.credential WHERE user_id = %s", (user_id,))
        return {t for (t,) in rows}


def test_credentials_use_keycloaks_columns_and_a_late_enrolment_appears_when_made(
    conninfo, world, ground_truth, before_revocation
):
    """M10 evidence: a second factor exists only from its enrolment; secrets stay in the
    columns the pipeline never selects."""
    (mfa,) = [s for s in ground_truth["scenarios"] if s["id"] == "privileged_login_without_mfa"]
    late = mfa["identifiers"]["late_enroller_keycloak_user_id"]
    owner = mfa["identifiers"]["keycloak_user_id"]
    load_keycloak(conninfo, before_revocation / "keycloak")
    assert _credential_types(conninfo, late) == {"password"}
    load_keycloak(conninfo, world / "keycloak")
    assert _credential_types(conninfo, late) == {"password", "otp"}
    assert _credential_types(conninfo, owner) == {"password"}
    with psycopg.connect(conninfo) as conn:
        cols = [
            c
            for (c,) in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'credential' ORDER BY ordinal_position"
            )
        ]
        secrets = conn.execute(
            "SELECT count(*) FROM public.credential WHERE secret_data LIKE %s",
            (f"%{SECRET_MARKER}%",),
        ).fetchone()[0]
    assert cols == [
        "id",
        "salt",
        "type",
        "user_id",
        "created_date",
        "user_label",
        "secret_data",
        "credential_data",
        "priority",
    ]
    assert secrets == _db_rows(conninfo, "credential") > 0
