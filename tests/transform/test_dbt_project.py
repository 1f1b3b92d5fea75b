"""dbt itself on the pipeline's warehouse: the legal-rule unit tests, tamper detection on the
raw logs, a bad register cell named while good rows flow, and offline docs."""

from __future__ import annotations

import json
import re

import psycopg
import pytest

pytestmark = pytest.mark.integration


def test_deadline_and_significance_unit_tests_pass(dbt):
    listed = dbt("ls", "--resource-type", "unit_test", "--output", "name", "--quiet")
    assert listed.returncode == 0, listed.stdout[-3000:]
    names = [line for line in listed.stdout.splitlines() if line.strip()]
    assert len(names) >= 12, names
    result = dbt("test", "--select", "test_type:unit")
    assert result.returncode == 0, result.stdout[-4000:]
    passed = re.search(r"PASS=(\d+) WARN=0 ERROR=0", result.stdout)
    assert passed, result.stdout[-2000:]
    assert int(passed.group(1)) >= len(names), "every listed unit test ran and passed"


def test_editing_a_sealed_raw_log_row_fails_the_recomputation_test(dbt, pipeline_run):
    """Annex 3.2.5: a change made behind the loader's back must show up as a digest mismatch."""
    clean = dbt("test", "--select", "assert_log_digests_match_raw")
    assert clean.returncode == 0, clean.stdout[-3000:]
    with psycopg.connect(pipeline_run.conninfo, autocommit=True) as conn:
        uuid, path = conn.execute(
            "select uuid, path from tap_didit.audit_logs order by timestamp limit 1"
        ).fetchone()
        conn.execute(
            "update tap_didit.audit_logs set path = path || '?tampered' where uuid = %s", (uuid,)
        )
        try:
            tampered = dbt("test", "--select", "assert_log_digests_match_raw")
        finally:
            conn.execute("update tap_didit.audit_logs set path = %s where uuid = %s", (path, uuid))
    assert tampered.returncode != 0
    assert "FAIL 1" in tampered.stdout, tampered.stdout[-3000:]
    restored = dbt("test", "--select", "assert_log_digests_match_raw")
    assert restored.returncode == 0, restored.stdout[-3000:]


RAW_FIELDS_INLINE = (
    "{% set f = wazuh_alert_fields(api.Relation.create("
    "database='warehouse', schema='raw_fields_check', identifier='alerts')) %}"
    "select {{ f['id'] }}, {{ f['timestamp'] }}, {{ f['location'] }}, {{ f['rule'] }}, "
    "{{ f['agent'] }}, {{ f['data'] }}, {{ f['decoder'] }}, {{ wazuh_alert_row_hash(f) }} "
    "from raw_fields_check.alerts order by 1"
)
JSONB_ROUTE = """
    select rec ->> 'id', rec ->> 'timestamp', rec ->> 'location', rec -> 'rule', rec -> 'agent',
        rec -> 'data', rec -> 'decoder',
        encode(sha256(convert_to(concat_ws('|', coalesce(rec ->> 'id', ''),
            coalesce(rec ->> 'timestamp', ''), coalesce(cast(rec -> 'rule' as text), ''),
            coalesce(cast(rec -> 'agent' as text), ''), coalesce(cast(rec -> 'data' as text), ''),
            coalesce(rec ->> 'location', '')), 'UTF8')), 'hex')
    from (select to_jsonb(a) as rec from raw_fields_check.alerts as a) as r order by 1
"""


def test_raw_columns_of_any_type_hash_as_the_row_read_as_jsonb(dbt, pipeline_run):
    """Wazuh alerts are read column by column (raw_fields) where they used to be read as one
    jsonb record per row: for a column of another type than expected, or a missing one, the
    fields and the row hash must stay what the jsonb route gave, or sealed digests would no
    longer match the raw rows."""
    with psycopg.connect(pipeline_run.conninfo, autocommit=True) as conn:
        conn.execute("drop schema if exists raw_fields_check cascade")
        conn.execute("create schema raw_fields_check")
        try:
            # no `data` column, an integer id, a bare timestamp, json (not jsonb), a varchar(n)
            conn.execute(
                'create table raw_fields_check.alerts (id integer, "timestamp" timestamp, '
                "location varchar(40), rule json, agent jsonb, decoder text)"
            )
            conn.execute(
                "insert into raw_fields_check.alerts values "
                "(1, '2026-03-29 01:30:00.25', 'auth.log', %s, %s, %s), "
                "(2, null, null, null, null, null)",
                (
                    json.dumps({"level": 10, "id": "5712", "mitre": {"id": ["T1110"]}}),
                    json.dumps({"name": "web-01"}),
                    json.dumps({"name": "sshd"}),
                ),
            )
            compiled = dbt("--quiet", "compile", "--inline", RAW_FIELDS_INLINE)
            assert compiled.returncode == 0, compiled.stdout[-3000:]
            by_columns = conn.execute(compiled.stdout.strip()).fetchall()
            by_jsonb = conn.execute(JSONB_ROUTE).fetchall()
        finally:
            conn.execute("drop schema raw_fields_check cascade")
    assert len(by_columns) == 2
    assert by_columns == by_jsonb, (by_columns, by_jsonb)
    assert by_columns[0][3]["mitre"] == {"id": ["T1110"]}
    assert by_columns[0][5] is None, "a column the loader never created reads as null"


def test_bad_register_cell_is_named_while_other_incidents_keep_flowing(pipeline_run):
    with psycopg.connect(pipeline_run.conninfo, autocommit=True) as conn:
        incident_id, aware_at = conn.execute(
            "select incident_id, aware_at from tap_incidents.incident_register "
            "order by incident_id limit 1"
        ).fetchone()
        total = conn.execute("select count(*) from tap_incidents.incident_register").fetchone()[0]
        conn.execute(
            "update tap_incidents.incident_register set aware_at = 'yesterday-ish' "
            "where incident_id = %s",
            (incident_id,),
        )
        try:
            rejects = conn.execute(
                "select record_key, field "
                "from analytics_staging.stg_incidents__incident_register_rejects"
            ).fetchall()
            typed = conn.execute(
                "select count(*), count(aware_at) "
                "from analytics_staging.stg_incidents__incident_register"
            ).fetchone()
        finally:
            conn.execute(
                "update tap_incidents.incident_register set aware_at = %s where incident_id = %s",
                (aware_at, incident_id),
            )
    assert rejects == [(incident_id, "aware_at")]
    assert typed[0] == total
    assert "yesterday-ish" not in str(rejects)


def test_docs_generate_offline_with_every_mart_column_documented(dbt):
    result = dbt("docs", "generate")
    assert result.returncode == 0, result.stdout[-3000:]
    manifest_path = dbt.target_path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    catalog = json.loads((manifest_path.parent / "catalog.json").read_text())
    marts = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["name"].startswith("mart_nis2_")
    }
    assert len(marts) >= 15
    undocumented = []
    for name, node in marts.items():
        built = catalog["nodes"][node["unique_id"]]["columns"]
        for column in built:
            doc = node["columns"].get(column)
            if not doc or not doc["description"] or not doc.get("meta"):
                undocumented.append(f"{name}.{column}")
        if not node["description"] or not node.get("meta"):
            undocumented.append(name)
    assert not undocumented, undocumented
