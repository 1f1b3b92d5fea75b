"""The NIS2 marts on data the real pipeline loaded: planted scenarios found, clean periods
clean, nothing lost or doubled by incremental runs, no raw identifiers in the marts."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from tests.transform.ground_truth import (
    MART_SCHEMA,
    Marts,
    check_clean_periods,
    check_period_bounds,
    check_scenarios,
    unexplained_findings,
)

pytestmark = pytest.mark.integration


def test_every_planted_scenario_is_found_by_the_mart_the_manifest_names(pipeline_run):
    outcomes = check_scenarios(pipeline_run.ground_truth, Marts(pipeline_run.conninfo))
    assert outcomes, "the manifest lists no scenario: the simulated period is too short"
    failed = [str(o) for o in outcomes if not o.ok]
    assert not failed, "\n".join(failed)


def test_clean_periods_produce_no_finding(pipeline_run):
    outcomes = check_clean_periods(pipeline_run.ground_truth, Marts(pipeline_run.conninfo))
    assert outcomes, "the manifest lists no clean period"
    failed = [str(o) for o in outcomes if not o.ok]
    assert not failed, "\n".join(failed)


def test_no_finding_outside_the_planted_scenarios_over_the_whole_period(pipeline_run):
    """The background stays below every threshold (the manifest's noise_limits), so every
    finding of the detection marts belongs to a scenario's window: the rest are false
    positives, listed by mart with their type and time."""
    marts = Marts(pipeline_run.conninfo)
    outcomes = check_period_bounds(pipeline_run.ground_truth, marts)
    assert len(outcomes) == 4
    failed = [str(o) for o in outcomes if not o.ok]
    if failed:
        found = unexplained_findings(pipeline_run.ground_truth, marts)
        for mart, rows in found.items():
            for r in rows[:10]:
                when = r.get("window_start", r.get("first_at", r.get("event_ts")))
                failed.append(f"  {mart}: {r.get('detection_type', r.get('key_type'))} {when}")
    assert not failed, "\n".join(failed)


@pytest.mark.parametrize(
    ("raw_table", "raw_key", "staged", "staged_key"),
    [
        ("tap_didit.audit_logs", "uuid", "stg_didit__audit_logs", "audit_log_id"),
        ("tap_keycloak.event_entity", "id", "stg_keycloak__events", "event_id"),
        ("tap_keycloak.admin_event_entity", "id", "stg_keycloak__admin_events", "admin_event_id"),
        ("tap_wazuh.wazuh_alerts", "id", "stg_wazuh__alerts", "alert_id"),
    ],
)
def test_incremental_event_facts_hold_every_raw_event_exactly_once(
    pipeline_run, raw_table, raw_key, staged, staged_key
):
    """After the second (incremental) run the staged facts equal the raw keys, no more, no less."""
    raw = sql.SQL("select distinct cast({} as text) from {}").format(
        sql.Identifier(raw_key), sql.Identifier(*raw_table.split("."))
    )
    stg = sql.SQL("select {} from {}").format(
        sql.Identifier(staged_key), sql.Identifier("analytics_staging", staged)
    )
    with psycopg.connect(pipeline_run.conninfo) as conn:
        raw_keys = {r[0] for r in conn.execute(raw)}
        staged_keys = [r[0] for r in conn.execute(stg)]
    assert raw_keys, f"{raw_table} is empty: the pipeline loaded nothing to check"
    assert len(staged_keys) == len(set(staged_keys)), f"{staged} holds duplicate events"
    assert set(staged_keys) == raw_keys


def _raw_identifiers(manifest: dict) -> set[str]:
    """E-mails, user ids and IP addresses the manifest names: none may appear in a mart."""
    found: set[str] = set()
    for scenario in manifest["scenarios"]:
        for name, value in scenario["identifiers"].items():
            values = value if isinstance(value, list) else [value]
            for v in values:
                if isinstance(v, str) and (
                    "@" in v or name.endswith(("_ip", "user_id")) or name == "src_ip"
                ):
                    found.add(v)
    return found


def test_marts_carry_pseudonyms_never_raw_people_or_addresses(pipeline_run):
    identifiers = _raw_identifiers(pipeline_run.ground_truth)
    assert identifiers, "the manifest names no person or address to look for"
    with psycopg.connect(pipeline_run.conninfo) as conn:
        marts = [
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = %s",
                (MART_SCHEMA,),
            )
        ]
        assert len(marts) >= 15
        leaks = []
        for mart in marts:
            query = sql.SQL(
                "select count(*) from {} as t where to_jsonb(t)::text ilike any(%s)"
            ).format(sql.Identifier(MART_SCHEMA, mart))
            patterns = [f"%{i}%" for i in identifiers]
            if conn.execute(query, (patterns,)).fetchone()[0]:
                leaks.append(mart)
    assert not leaks, f"raw identifiers found in {leaks}"
