"""Reconciliation per run and source (pipeline/reconcile.py) on hand-written raw rows.

Every expected figure below is counted by hand from the rows and ledger lines written in this
file; nothing comes from the module under test or from the simulator.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pipeline import reconcile

_names = itertools.count()

RAW_DDL = """
create schema tap_didit;
create schema tap_wazuh;
create schema tap_keycloak;
create schema tap_incidents;
create table tap_didit.audit_logs (uuid text primary key, _sdc_batched_at timestamptz);
create table tap_didit.skipped_records (
    stream text, sync_started_at text, position bigint, record_key text, reason text,
    missing_fields jsonb, skipped_at text, _sdc_batched_at timestamptz,
    primary key (stream, sync_started_at, position));
create table tap_wazuh.wazuh_alerts (id text primary key, _sdc_batched_at timestamptz);
-- no unique key: two versions of one event can sit side by side
create table tap_keycloak.event_entity (id text, _sdc_batched_at timestamptz);
create table tap_incidents.incident_register (
    incident_id text primary key, _sdc_batched_at timestamptz);
"""
REJECTS_DDL = """
create schema analytics_intermediate;
create table analytics_intermediate.int_ingest_rejects (
    source text, stream text, record_key text, field text, reason text, raw_value text,
    action text, loaded_at timestamptz);
"""
#: Loads an hour ago: the first reconciliation's window holds them.
SEED = """
insert into tap_didit.audit_logs values
    ('a-1', now() - interval '1 hour'), ('a-2', now() - interval '1 hour'),
    ('a-3', now() - interval '1 hour');
insert into tap_didit.skipped_records values
    ('audit_logs', '2026-11-01T00:00:00.000000Z', 2, null, 'has no uuid', '["uuid"]',
     '2026-11-01T00:00:01.000000Z', now() - interval '1 hour');
insert into tap_wazuh.wazuh_alerts values
    ('w-1', now() - interval '1 hour'), ('w-2', now() - interval '1 hour'),
    ('w-3', now() - interval '1 hour'), ('w-4', now() - interval '1 hour');
insert into tap_keycloak.event_entity values
    ('e-1', now() - interval '2 hours'), ('e-1', now() - interval '1 hour'),
    ('e-2', now() - interval '1 hour');
insert into tap_incidents.incident_register values
    ('INC-1', now() - interval '1 hour'), ('INC-2', now() - interval '1 hour');
"""
SEED_REJECTS = """
insert into analytics_intermediate.int_ingest_rejects values
    ('incidents', 'incident_register', 'INC-2', 'detected_at', 'not a timestamp', 'x',
     'rejected', now() - interval '1 hour'),
    ('wazuh', 'wazuh_alerts', 'w-3', 'timestamp', 'not a timestamp', 'y',
     'field_nulled', now() - interval '1 hour');
"""


@pytest.fixture
def warehouse(admin_conninfo: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh database with the raw schemas; the reconcile command is pointed at it."""
    name = f"reconcile_{next(_names)}"
    with psycopg.connect(admin_conninfo, autocommit=True) as admin:
        admin.execute(f"drop database if exists {name}")
        admin.execute(f"create database {name}")
    parts = conninfo_to_dict(admin_conninfo)
    monkeypatch.setenv(
        "TARGET_POSTGRES_SQLALCHEMY_URL",
        f"postgresql://{parts['user']}@{parts['host']}:{parts['port']}/{name}",
    )
    conninfo = make_conninfo(admin_conninfo, dbname=name)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(RAW_DDL)
        conn.execute(SEED)
    return conninfo


def run_sql(conninfo: str, statements: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(statements)


def ledger_line(state_dir, offered: int, spooled: int, left_out: dict[str, int]) -> None:
    """One committed wazuh-spool run, as the ledger contract describes it."""
    entry = {
        "committed_at": datetime.now(UTC).isoformat(),
        "offered": offered,
        "spooled": spooled,
        "left_out": left_out,
        "left_out_lines": [{"file": "alerts.json", "line": 7, "reason": r} for r in left_out],
    }
    with (state_dir / "ledger.jsonl").open("a", encoding="utf-8") as ledger:
        ledger.write(json.dumps(entry) + "\n")


def stored(conninfo: str) -> dict[tuple[str, str, str], dict]:
    with psycopg.connect(conninfo) as conn:
        conn.row_factory = psycopg.rows.dict_row
        rows = conn.execute("select * from nis2_ops.source_reconciliation").fetchall()
    return {(r["run_id"], r["source"], r["stream"]): r for r in rows}


FIGURES = ("offered", "loaded", "rejected", "left_out", "duplicates_collapsed", "status")


def test_the_counts_add_up_per_source_and_are_kept(warehouse, tmp_path, monkeypatch, capsys):
    run_sql(warehouse, REJECTS_DDL + SEED_REJECTS)
    ledger_line(tmp_path, offered=6, spooled=4, left_out={"not valid JSON": 2})
    monkeypatch.setenv("NIS2_RUN_ID", "run-1")

    assert reconcile.main(["--wazuh-state-dir", str(tmp_path)]) == 0

    rows = stored(warehouse)
    figures = {key[1:]: tuple(row[f] for f in FIGURES) for key, row in rows.items()}
    assert figures == {
        ("didit", "audit_logs"): (4, 3, 0, 1, 0, "ok"),
        ("wazuh", "wazuh_alerts"): (6, 4, 0, 2, 0, "ok"),
        ("keycloak", "event_entity"): (3, 2, 0, 0, 1, "ok"),
        ("keycloak", "admin_event_entity"): (0, 0, 0, 0, 0, "ok"),
        ("incidents", "incident_register"): (2, 1, 1, 0, 0, "ok"),
    }
    wazuh = rows[("run-1", "wazuh", "wazuh_alerts")]
    assert wazuh["reasons"]["left_out"] == {"not valid JSON": 2}
    assert wazuh["reasons"]["field_nulled"] == {"timestamp: not a timestamp": 1}
    assert rows[("run-1", "didit", "audit_logs")]["reasons"]["left_out"] == {"has no uuid": 1}
    assert rows[("run-1", "incidents", "incident_register")]["reasons"]["rejected"] == {
        "detected_at: not a timestamp": 1
    }
    assert wazuh["window_start"] is None  # the first run: everything loaded so far
    printed = capsys.readouterr().out
    assert all(line.startswith("reconcile:") for line in printed.splitlines())
    assert "wazuh/wazuh_alerts" in printed
    assert "left out: not valid JSON: 2" in printed
    assert "INC-2" not in printed
    assert "w-3" not in printed


def test_a_source_with_every_record_rejected_fails_the_task_naming_it(warehouse, tmp_path, capsys):
    run_sql(
        warehouse,
        REJECTS_DDL
        + """insert into analytics_intermediate.int_ingest_rejects values
        ('tap_incidents', 'incident_register', 'INC-1', 'detected_at', 'not a timestamp',
         'x', 'rejected', now() - interval '1 hour'),
        ('tap_incidents', 'incident_register', 'INC-2', 'detected_at', 'not a timestamp',
         'x', 'rejected', now() - interval '1 hour');""",
    )
    ledger_line(tmp_path, offered=4, spooled=4, left_out={})

    assert reconcile.main(["--wazuh-state-dir", str(tmp_path)]) == 1

    printed = capsys.readouterr().out
    errors = [line for line in printed.splitlines() if "ERROR" in line]
    assert len(errors) == 1
    assert "incidents/incident_register" in errors[0]
    assert "TAP_INCIDENTS_FILES" in errors[0]
    (row,) = [r for k, r in stored(warehouse).items() if k[1] == "incidents"]
    assert (row["offered"], row["loaded"], row["rejected"], row["status"]) == (
        2,
        0,
        2,
        "all_rejected",
    )


def test_a_missing_rejects_relation_is_no_data_not_zero(warehouse, tmp_path, capsys):
    ledger_line(tmp_path, offered=4, spooled=4, left_out={})

    assert reconcile.main(["--wazuh-state-dir", str(tmp_path)]) == 0

    rows = stored(warehouse)
    assert {r["rejected"] for r in rows.values()} == {None}
    assert {r["status"] for r in rows.values()} == {"no_data"}
    assert all("int_ingest_rejects not found" in r["reasons"]["no_data"][0] for r in rows.values())
    assert "no data" in capsys.readouterr().out


def test_without_a_wazuh_ledger_what_was_left_out_is_no_data(warehouse, tmp_path):
    run_sql(warehouse, REJECTS_DDL)
    assert reconcile.main(["--wazuh-state-dir", str(tmp_path / "nowhere")]) == 0
    (wazuh,) = [r for k, r in stored(warehouse).items() if k[1] == "wazuh"]
    assert (wazuh["left_out"], wazuh["offered"], wazuh["status"]) == (None, None, "no_data")


def test_a_second_run_reconciles_only_the_new_window(warehouse, tmp_path, monkeypatch):
    run_sql(warehouse, REJECTS_DDL)
    ledger_line(tmp_path, offered=4, spooled=4, left_out={})
    monkeypatch.setenv("NIS2_RUN_ID", "run-1")
    assert reconcile.main(["--wazuh-state-dir", str(tmp_path)]) == 0
    run_sql(warehouse, "insert into tap_wazuh.wazuh_alerts values ('w-5', now()), ('w-6', now())")
    ledger_line(tmp_path, offered=3, spooled=2, left_out={"no string id": 1})
    monkeypatch.setenv("NIS2_RUN_ID", "run-2")

    assert reconcile.main(["--wazuh-state-dir", str(tmp_path)]) == 0

    rows = stored(warehouse)
    first, second = (
        rows[("run-1", "wazuh", "wazuh_alerts")],
        rows[("run-2", "wazuh", "wazuh_alerts")],
    )
    assert second["window_start"] == first["window_end"]
    assert tuple(second[f] for f in FIGURES) == (3, 2, 0, 1, 0, "ok")
    assert rows[("run-2", "keycloak", "event_entity")]["offered"] == 0
    # the register is offered again on every run, so nothing new of it is a failure
    assert rows[("run-2", "incidents", "incident_register")]["status"] == "ok"
    # Didit skipped only in the first window: nothing offered, nothing left out now
    assert rows[("run-2", "didit", "audit_logs")]["left_out"] == 0


def logging_block(html: str, block: str) -> str:
    """The HTML of one block of the pack's logging section."""
    start = html.index(f'id="logging-{block}"')
    end = html.find('<div class="block"', start)
    return html[start : end if end > 0 else len(html)]


def test_the_pack_shows_the_reconciliation_of_the_period(warehouse, tmp_path, monkeypatch):
    from report.pack import render_pack
    from report.period import parse_period
    from report.postgres_source import PostgresSource
    from report.warehouse import InMemorySource

    run_sql(warehouse, REJECTS_DDL + SEED_REJECTS)
    ledger_line(tmp_path, offered=6, spooled=4, left_out={"not valid JSON": 2})
    assert reconcile.main(["--wazuh-state-dir", str(tmp_path)]) == 0
    period = parse_period(datetime.now(UTC).strftime("%Y-%m"))
    source = PostgresSource(warehouse, schema="analytics_nis2")  # no marts: 'no data' there
    try:
        pack = render_pack(source, period, "Example Org", tmp_path / "packs", pdf=False)
    finally:
        source.close()
    block = logging_block((pack.folder / "evidence-pack.html").read_text(), "reconciliation")
    # totals over the five streams of the first test: 4 + 6 + 3 + 0 + 2 offered, ...
    assert 'data-metric="reconciled_offered" data-value="15"' in block
    assert 'data-metric="reconciled_loaded" data-value="10"' in block
    assert 'data-metric="reconciled_rejected" data-value="1"' in block
    assert 'data-metric="reconciled_left_out" data-value="3"' in block
    assert "left out: not valid JSON (2)" in block
    assert "rejected: detected_at: not a timestamp (1)" in block
    # the same runs per source and day, beside the coverage evidence of that day
    assert "reconciliation-days" in block
    assert datetime.now(UTC).date().isoformat() in block

    empty = render_pack(InMemorySource({}), period, "Example Org", tmp_path / "empty", pdf=False)
    block = logging_block((empty.folder / "evidence-pack.html").read_text(), "reconciliation")
    assert "no reconciliation recorded" in block
    assert 'data-metric="reconciled_offered" data-value=""' in block  # not zero
