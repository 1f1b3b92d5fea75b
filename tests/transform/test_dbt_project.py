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
                "select incident_id, invalid_fields "
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
