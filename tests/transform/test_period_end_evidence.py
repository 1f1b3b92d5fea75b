"""Closed months keep their access findings (issue: the pack for a closed month said `no_data`
for Annex 10.3, 11.2.3 and 11.5 while its chapter 5 listed overdue reviews and a leaver).
On the warehouse of the session's real pipeline run; the rules themselves are unit-tested in
transform/models/marts/nis2/_unit_tests_access_period_end.yml on hand-written history."""

from __future__ import annotations

import psycopg
import pytest

from tests.transform.ground_truth import MART_SCHEMA

pytestmark = pytest.mark.integration

ACCESS_REQUIREMENTS = ("10.3", "11.2.3", "11.5")


def _rows(conninfo: str, query: str) -> list[tuple]:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(query.format(schema=MART_SCHEMA)).fetchall()


def test_closed_months_judge_access_requirements_from_their_period_end(pipeline_run):
    judged = _rows(
        pipeline_run.conninfo,
        "select m.month, m.ref_id, m.status, m.evidence_rows, m.metric_value, m.target"
        " from {schema}.mart_nis2_control_evidence_matrix as m"
        " where m.ref_id in ('10.3', '11.2.3', '11.5')"
        "   and exists (select 1 from {schema}.mart_nis2_access_review_period_end as a"
        "               where a.month = m.month)",
    )
    months = {row[0] for row in judged}
    assert len(months) >= 3, f"the demo's history spans several months: {sorted(months)}"
    no_data = [row for row in judged if row[2] == "no_data"]
    assert no_data == [], "a month with period-end access evidence is never no_data"
    assert all(row[3] > 0 and row[5] is not None for row in judged), "evidence and target shown"


def test_the_running_month_equals_the_current_state(pipeline_run):
    """At as_of the period-end reconstruction and the current-state mart judge the same instant
    by the same rules, so their counts must agree."""
    period_end = _rows(
        pipeline_run.conninfo,
        "select count(*) filter (where leaver_access_active and is_identity_row),"
        " count(*) filter (where is_dormant and is_identity_row),"
        " count(*) filter (where review_overdue), count(*)"
        " from {schema}.mart_nis2_access_review_period_end"
        " where month = (select max(month) from {schema}.mart_nis2_access_review_period_end)",
    )[0]
    current = _rows(
        pipeline_run.conninfo,
        "select count(*) filter (where leaver_access_active and is_identity_row),"
        " count(*) filter (where is_dormant and is_identity_row),"
        " count(*) filter (where review_overdue), count(*)"
        " from {schema}.mart_nis2_access_review_status",
    )[0]
    assert period_end == current
    assert current[3] > 0, "the demo has accounts to judge"


def test_the_monthly_report_carries_the_access_findings_of_closed_months(pipeline_run):
    report = _rows(
        pipeline_run.conninfo,
        "select r.month, r.leavers_with_access, r.dormant_accounts, r.access_reviews_overdue"
        " from {schema}.mart_nis2_management_monthly_report as r"
        " where r.month < (select max(month) from {schema}.mart_nis2_access_review_period_end)"
        "   and r.month >= (select min(month) from {schema}.mart_nis2_access_review_period_end)",
    )
    assert report, "closed months are reported"
    assert all(None not in row[1:] for row in report), f"NULL findings in closed months: {report}"
