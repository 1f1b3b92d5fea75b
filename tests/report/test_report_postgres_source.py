"""The Postgres side of the data-access layer, against a real (embedded) PostgreSQL server:
schema discovery, seeds in another schema, period pre-filter, freshness over the whole mart,
names for the internal version, clear errors without secrets."""

from datetime import UTC, date, datetime

import psycopg
import pytest
from report_samples import TEST_KEY, mart_key

from report.cli import main
from report.identities import IDENTITY_SOURCES
from report.manifest import verify
from report.pack import HTML_NAME
from report.postgres_source import PostgresSource
from report.pseudonyms import Pseudonymiser, pseudonym
from report.warehouse import WarehouseError, load_marts

# HMAC-SHA256 (RFC 2104) from PostgreSQL's sha256(), as the transform macro builds it: the
# report's pseudonyms must be the ones the warehouse computes.
SQL_HMAC = """
with k as (
    select convert_to(%(key)s::text, 'UTF8')
        || decode(repeat('00', 64 - octet_length(convert_to(%(key)s::text, 'UTF8'))), 'hex')
        as key
),
pads as (
    select
        string_agg(decode(lpad(to_hex(get_byte(key, i) # 54), 2, '0'), 'hex'), '' order by i)
            as ipad,
        string_agg(decode(lpad(to_hex(get_byte(key, i) # 92), 2, '0'), 'hex'), '' order by i)
            as opad
    from k, generate_series(0, 63) as i
)
select 'p_' || left(encode(
    sha256(opad || sha256(ipad || convert_to(lower(%(value)s::text), 'UTF8'))), 'hex'), 24)
from pads
"""


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
            "('a', '2026-10-05 10:00Z', %(alice)s, false), "
            "('b', '2026-09-05 10:00Z', %(bob)s, false), "
            "('c', '2026-08-05 10:00Z', %(carol)s, true), "
            "('d', null, %(dave)s, true), "
            "('e', '2026-12-24 18:00Z', %(alice)s, true)",
            {n: mart_key(f"{n}@example.org") for n in ("alice", "bob", "carol", "dave")},
        )
        conn.execute("drop schema if exists analytics_intermediate cascade")
        conn.execute("create schema analytics_intermediate")
        conn.execute(
            "create table analytics_intermediate.int_privilege_changes "
            "(actor text, target_principal text, src_ip inet)"
        )
        conn.execute(
            "insert into analytics_intermediate.int_privilege_changes values "
            "('alice@example.org', 'bob@example.org', '192.0.2.44'), "
            "('Carol@Example.org', null, null), ('dave@example.org', null, null)"
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
    assert privileged.rows[0]["actor_key"] == mart_key("alice@example.org")
    assert privileged.rows[0]["event_ts"] == datetime(2026, 10, 5, 10, tzinfo=UTC)
    assert [r["event_id"] for r in privileged.undated] == ["d"]  # fetched despite the filter
    # freshness is the newest row of the whole mart, not the newest inside the period
    assert privileged.latest_at == datetime(2026, 12, 24, 18, tzinfo=UTC)
    assert marts["mart_nis2_control_evidence_matrix"].rows[0]["month"] == date(2026, 10, 1)
    assert marts["nis2_thresholds"].rows[0]["value"] == 24
    assert marts["mart_nis2_incident_register"].status == "missing"


def test_the_reports_pseudonym_equals_the_one_postgresql_computes(scratch_pg):
    with psycopg.connect(scratch_pg) as conn:
        for value in ("Alice@Example.org", "192.0.2.44/24", "Zoë Müller"):
            token = conn.execute(SQL_HMAC, {"key": TEST_KEY, "value": value}).fetchone()[0]
            assert pseudonym(TEST_KEY.encode(), value) == token


def test_identities_are_read_as_the_text_dbt_hashed(warehouse):
    source = PostgresSource(warehouse)
    try:
        found = source.identities(IDENTITY_SOURCES)
    finally:
        source.close()
    assert found == sorted(
        {"alice@example.org", "bob@example.org", "Carol@Example.org", "dave@example.org"}
    )  # src_ip is not a column IDENTITY_SOURCES names for int_privilege_changes


def test_raw_source_freshness_is_the_last_load_with_an_estimated_row_count(scratch_pg):
    with psycopg.connect(scratch_pg, autocommit=True) as conn:
        conn.execute("drop schema if exists tap_demo cascade")
        conn.execute("create schema tap_demo")
        conn.execute("create table tap_demo.events (id int, _sdc_batched_at timestamptz)")
        conn.execute(
            "insert into tap_demo.events select i, timestamptz '2026-10-01 00:00Z' "
            "+ i * interval '1 minute' from generate_series(1, 500) as i"
        )
        conn.execute("analyze tap_demo.events")
    source = PostgresSource(scratch_pg, "analytics_nis2")
    try:
        freshness = {row["source"]: row for row in source.source_freshness()}
    finally:
        source.close()
    assert freshness["tap_demo.events"]["loaded_at"] == datetime(2026, 10, 1, 8, 20, tzinfo=UTC)
    assert freshness["tap_demo.events"]["rows"] == 500


def test_the_internal_version_names_the_marts_pseudonyms(
    warehouse, tmp_path, capsys, pseudonym_key
):
    args = ["render", "--period", "2026-10", "--out", str(tmp_path), "--entity", "Example Org"]
    code = main([*args, "--dsn", warehouse, "--no-pdf", "--internal-names"])
    captured = capsys.readouterr()
    assert code == 0
    html = (tmp_path / "nis2-evidence-pack_2026-10_internal" / HTML_NAME).read_text()
    assert "alice@example.org" in html
    assert mart_key("alice@example.org") not in html
    assert "could not be named" not in captured.err


def test_the_internal_version_without_the_key_is_refused(warehouse, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("NIS2_PSEUDONYM_KEY", raising=False)
    args = ["render", "--period", "2026-10", "--out", str(tmp_path), "--entity", "Example Org"]
    assert main([*args, "--dsn", warehouse, "--no-pdf", "--internal-names"]) == 2
    assert "--internal-names needs NIS2_PSEUDONYM_KEY" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


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
    assert mart_key("alice@example.org") in html
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
