"""The Postgres side of the data-access layer, against a real (embedded) PostgreSQL server:
schema discovery, seeds in another schema, period pre-filter, clear errors without secrets."""

from datetime import UTC, date, datetime

import psycopg
import pytest

from report.cli import main
from report.manifest import verify
from report.postgres_source import PostgresSource
from report.pseudonyms import Pseudonymiser
from report.warehouse import WarehouseError, load_marts


@pytest.fixture(scope="module")
def warehouse(scratch_pg):
    """Marts in `analytics_nis2` and seeds in `analytics_reference`, as dbt names them."""
    with psycopg.connect(scratch_pg, autocommit=True) as conn:
        conn.execute("drop schema if exists analytics_nis2 cascade")
        conn.execute("drop schema if exists analytics_reference cascade")
        conn.execute("create schema analytics_nis2")
        conn.execute("create schema analytics_reference")
        conn.execute(
            "create table analytics_nis2.mart_nis2_privileged_activity "
            "(event_id text, event_ts timestamptz, actor_key text, mfa_used boolean)"
        )
        conn.execute(
            "insert into analytics_nis2.mart_nis2_privileged_activity values "
            "('a', '2026-10-05 10:00Z', 'alice@example.org', true), "
            "('b', '2026-09-05 10:00Z', 'bob@example.org', false), "
            "('c', '2026-08-05 10:00Z', 'carol@example.org', true), "
            "('d', null, 'dave@example.org', true)"
        )
        conn.execute(
            "create table analytics_nis2.mart_nis2_control_evidence_matrix "
            "(ref_id text, month date, requirement_text text, status text)"
        )
        conn.execute(
            "insert into analytics_nis2.mart_nis2_control_evidence_matrix values "
            "('3.2.3', '2026-10-01', 'Logs kept', 'pass')"
        )
        conn.execute(
            "create table analytics_reference.nis2_thresholds (threshold_code text, value numeric,"
            " source_citation text)"
        )
        conn.execute(
            "insert into analytics_reference.nis2_thresholds values "
            "('ART23_EARLY_WARNING_HOURS', 24, 'Directive (EU) 2022/2555 Art. 23(4)(a)')"
        )
    return scratch_pg


def test_marts_schema_and_seed_schema_are_found(warehouse, october):
    source = PostgresSource(warehouse)
    try:
        assert source.schema == "analytics_nis2"
        marts = load_marts(source, october, Pseudonymiser(b"k"))
    finally:
        source.close()
    privileged = marts["mart_nis2_privileged_activity"]
    assert [r["event_id"] for r in privileged.rows] == ["a"]
    assert [r["event_id"] for r in privileged.previous_rows] == ["b"]
    assert privileged.rows[0]["actor_key"].startswith("person-")
    assert privileged.rows[0]["event_ts"] == datetime(2026, 10, 5, 10, tzinfo=UTC)
    assert [r["event_id"] for r in privileged.undated] == ["d"]  # fetched despite the filter
    assert marts["mart_nis2_control_evidence_matrix"].rows[0]["month"] == date(2026, 10, 1)
    assert marts["nis2_thresholds"].rows[0]["value"] == 24
    assert marts["mart_nis2_incident_register"].status == "missing"


def test_the_cli_renders_a_pack_from_postgres(warehouse, tmp_path, capsys, pseudonym_key):
    code = main(
        [
            "render",
            "--period",
            "2026-10",
            "--out",
            str(tmp_path),
            "--entity",
            "Example Org",
            "--dsn",
            warehouse,
            "--no-pdf",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    folder = tmp_path / "nis2-evidence-pack_2026-10"
    assert captured.out.strip() == str(folder)
    assert "mart_nis2_incident_register: missing" in captured.err
    assert verify(folder).ok
    html = (folder / "evidence-pack.html").read_text()
    assert "alice@example.org" not in html
    assert "Directive (EU) 2022/2555 Art. 23(4)(a)" in html


def test_strict_mode_fails_when_marts_are_missing(warehouse, tmp_path, pseudonym_key):
    args = [
        "render",
        "--period",
        "2026-10",
        "--out",
        str(tmp_path),
        "--entity",
        "Example Org",
        "--dsn",
        warehouse,
        "--no-pdf",
        "--strict",
    ]
    assert main(args) == 1


def test_an_unreachable_warehouse_is_a_clear_error_without_the_password(capsys):
    code = main(
        [
            "render",
            "--period",
            "2026-10",
            "--entity",
            "X",
            "--dsn",
            "host=127.0.0.1 port=1 user=reporter password=s3cret-pw dbname=warehouse "
            "connect_timeout=2",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot connect to the warehouse at postgresql://reporter@127.0.0.1:1/warehouse" in err
    assert "s3cret-pw" not in err


def test_a_warehouse_without_marts_says_what_to_do(scratch_pg):
    with psycopg.connect(scratch_pg, autocommit=True) as conn:
        conn.execute("drop database if exists empty_wh")
        conn.execute("create database empty_wh")
    empty = psycopg.conninfo.make_conninfo(scratch_pg, dbname="empty_wh")  # same server
    with pytest.raises(WarehouseError, match="no mart_nis2_\\* tables"):
        PostgresSource(empty)


def test_without_entity_name_or_profile_seed_the_cli_asks_for_one(
    warehouse, tmp_path, capsys, monkeypatch
):
    monkeypatch.delenv("NIS2_ENTITY_NAME", raising=False)
    args = ["render", "--period", "2026-10", "--dsn", warehouse, "--out", str(tmp_path)]
    assert main(args) == 2
    assert "no entity name: pass --entity" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_bad_period_is_named(capsys):
    assert main(["render", "--period", "2026-13", "--entity", "X"]) == 2
    assert "--period '2026-13'" in capsys.readouterr().err
