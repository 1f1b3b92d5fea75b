"""M5, M10, M16, M17 and M18 on the data the real pipeline loaded: every log-in and alert
counted once, MFA secrets never extracted, exceptions shaping the control matrix only where
the register says so, and the management report adding up to the marts it summarises."""

from __future__ import annotations

from datetime import datetime

import psycopg
import pytest

from simulator.keycloak_gen import SECRET_MARKER

pytestmark = pytest.mark.integration


def _one(conninfo: str, query: str, params: tuple = ()) -> tuple:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(query, params).fetchone()


def _all(conninfo: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(query, params).fetchall()


def pipeline_run_as_of(pipeline_run) -> datetime:
    """The as_of the demo's dbt build used: the simulated end of the second run."""
    return datetime.fromisoformat(pipeline_run.ground_truth["period"]["end"].replace("Z", "+00:00"))


def test_credential_secrets_never_reach_the_warehouse(pipeline_run):
    """Only id, type, user, created date and label are extracted; the label stops in raw."""
    raw_columns = {
        c
        for (c,) in _all(
            pipeline_run.conninfo,
            "select column_name from information_schema.columns "
            "where table_schema = 'tap_keycloak' and table_name = 'credential'",
        )
    }
    assert {"id", "type", "user_id", "created_date"} <= raw_columns
    assert not raw_columns & {"salt", "secret_data", "credential_data"}
    (marked,) = _one(
        pipeline_run.conninfo,
        "select count(*) from tap_keycloak.credential as c where cast(c as text) like %s",
        (f"%{SECRET_MARKER}%",),
    )
    assert marked == 0
    staged = {
        c
        for (c,) in _all(
            pipeline_run.conninfo,
            "select column_name from information_schema.columns "
            "where table_schema = 'analytics_staging' and table_name = 'stg_keycloak__credentials'",
        )
    }
    assert "credential_id" in staged
    assert "user_label" not in staged


def test_mfa_coverage_counts_every_successful_login_once(pipeline_run):
    (raw,) = _one(
        pipeline_run.conninfo,
        "select count(distinct id) from tap_keycloak.event_entity "
        "where upper(type) in ('LOGIN', 'CLIENT_LOGIN') and error is null",
    )
    logins, with_mfa, excepted, in_scope = _one(
        pipeline_run.conninfo,
        "select sum(logins), sum(logins_with_mfa), sum(exceptions_applied), "
        "sum(logins_in_scope) from analytics_nis2.mart_nis2_mfa_coverage",
    )
    assert raw > 0
    assert logins == raw
    assert 0 < with_mfa < logins, "the demo has both covered and uncovered log-ins"
    assert excepted > 0
    assert in_scope == logins - excepted


def test_the_planted_admin_without_second_factor_makes_the_privileged_gap(pipeline_run):
    """The Owner's log-ins alone explain privileged log-ins without MFA: the other admins
    enrolled security keys, and none of them is exempted."""
    (scenario,) = [
        s
        for s in pipeline_run.ground_truth["scenarios"]
        if s["id"] == "privileged_login_without_mfa"
    ]
    owner = scenario["identifiers"]["keycloak_user_id"]
    (owner_logins,) = _one(
        pipeline_run.conninfo,
        "select count(*) from analytics_intermediate.int_keycloak_logins_mfa "
        "where user_id = %s and principal_class = 'privileged'",
        (owner,),
    )
    (gap,) = _one(
        pipeline_run.conninfo,
        "select sum(privileged_logins_without_mfa) from analytics_nis2.mart_nis2_mfa_coverage",
    )
    assert owner_logins > 0
    assert gap == owner_logins


def test_admin_logins_in_privileged_activity_use_the_same_mfa_rule(pipeline_run):
    """M7 judges an admin log-in by the factor enrolled at that moment, as M10 does: every
    Keycloak admin log-in is decided, the Owner's are without MFA, the key holders' with."""
    rows = dict(
        _all(
            pipeline_run.conninfo,
            "select coalesce(cast(mfa_used as text), 'null'), count(*) "
            "from analytics_nis2.mart_nis2_privileged_activity "
            "where event_class = 'admin_login' and source_system = 'keycloak' group by 1",
        )
    )
    (gap,) = _one(
        pipeline_run.conninfo,
        "select sum(privileged_logins_without_mfa) from analytics_nis2.mart_nis2_mfa_coverage",
    )
    assert "null" not in rows
    assert rows.get("true", 0) > 0
    assert 0 < rows.get("false", 0) <= gap


def test_late_enrolment_covers_only_the_logins_after_it(pipeline_run):
    (scenario,) = [
        s
        for s in pipeline_run.ground_truth["scenarios"]
        if s["id"] == "privileged_login_without_mfa"
    ]
    user_id = scenario["identifiers"]["late_enroller_keycloak_user_id"]
    (enrolled_ms,) = _one(
        pipeline_run.conninfo,
        "select min(created_date) from tap_keycloak.credential where user_id = %s and type = 'otp'",
        (user_id,),
    )
    rows = _all(
        pipeline_run.conninfo,
        "select event_ts, has_mfa from analytics_intermediate.int_keycloak_logins_mfa "
        "where user_id = %s",
        (user_id,),
    )
    enrolled = datetime.fromtimestamp(enrolled_ms / 1000, tz=rows[0][0].tzinfo)
    before = {mfa for ts, mfa in rows if ts < enrolled}
    after = {mfa for ts, mfa in rows if ts >= enrolled}
    assert before == {False}
    assert after == {True}


def test_every_alert_at_policy_level_is_handled_once_and_links_are_kept(pipeline_run):
    (expected,) = _one(
        pipeline_run.conninfo,
        "select count(*) from analytics_staging.stg_wazuh__alerts where rule_level >= "
        "(select min(min_level) from analytics_reference.siem_alert_sla_policy)",
    )
    (handled,) = _one(
        pipeline_run.conninfo, "select count(*) from analytics_nis2.mart_nis2_siem_alert_handling"
    )
    assert handled == expected > 0
    missing = _all(
        pipeline_run.conninfo,
        """
        select l.alert_id
        from analytics_staging.stg_incidents__incident_register as r
        cross join lateral unnest(string_to_array(r.linked_alert_ids, ';')) as l (alert_id)
        join analytics_staging.stg_wazuh__alerts as a on a.alert_id = l.alert_id
        left join analytics_nis2.mart_nis2_siem_alert_handling as h on h.alert_id = l.alert_id
        where a.rule_level >= (
                select min(min_level) from analytics_reference.siem_alert_sla_policy
            )
            and (h.alert_id is null or h.disposition != 'escalated')
        """,
    )
    assert missing == []
    untriaged_with_time = _all(
        pipeline_run.conninfo,
        "select alert_id from analytics_nis2.mart_nis2_siem_alert_handling "
        "where disposition = 'untriaged' and (triaged_at is not null or ttt_min is not null)",
    )
    assert untriaged_with_time == []


def test_exceptions_shape_the_matrix_only_where_the_register_says(pipeline_run):
    """not_applicable_documented only with an entity-wide exception and no measured evidence;
    every requirement still present every month."""
    wrong = _all(
        pipeline_run.conninfo,
        """
        select ref_id, month, status, exception_ids, evidence_rows
        from analytics_nis2.mart_nis2_control_evidence_matrix as m
        where (status = 'not_applicable_documented') != (
            evidence_rows = 0 and exists (
                select 1 from analytics_nis2.mart_nis2_exceptions_register as e
                where e.scope_type = 'entity'
                    and (m.ref_id = e.annex_ref or m.ref_id like e.annex_ref || '.%%')
                    and e.approved_at <= least(m.month + interval '1 month', %s)
                    and e.expires_at > least(m.month + interval '1 month', %s)
            )
        )
        """,
        (pipeline_run_as_of(pipeline_run),) * 2,
    )
    assert wrong == []
    (na,) = _one(
        pipeline_run.conninfo,
        "select count(*) from analytics_nis2.mart_nis2_control_evidence_matrix "
        "where status = 'not_applicable_documented'",
    )
    assert na > 0, "the demo register holds an entity-wide decision"


def test_management_report_adds_up_to_the_marts_it_summarises(pipeline_run):
    rows = _all(
        pipeline_run.conninfo,
        """
        select r.month, r.privileged_logins_without_mfa, r.siem_alerts_at_policy_level,
               r.siem_alerts_escalated + r.siem_alerts_untriaged, r.controls_not_applicable,
               coalesce(m.gap, 0), coalesce(s.alerts, 0), coalesce(c.na, 0)
        from analytics_nis2.mart_nis2_management_monthly_report as r
        left join (
            select date_trunc('month', day)::date as month,
                   sum(privileged_logins_without_mfa) as gap
            from analytics_nis2.mart_nis2_mfa_coverage group by 1
        ) as m on m.month = r.month
        left join (
            select date_trunc('month', first_seen_at)::date as month, count(*) as alerts
            from analytics_nis2.mart_nis2_siem_alert_handling group by 1
        ) as s on s.month = r.month
        left join (
            select month, count(*) filter (where status = 'not_applicable_documented') as na
            from analytics_nis2.mart_nis2_control_evidence_matrix group by 1
        ) as c on c.month = r.month
        """,
    )
    assert rows
    for month, gap, alerts, split, na, gap_m, alerts_m, na_m in rows:
        assert (gap, alerts, split, na) == (gap_m, alerts_m, alerts_m, na_m), month
    assert sum(r[1] for r in rows) > 0
