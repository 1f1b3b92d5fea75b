"""MFA coverage (M10), SIEM alert handling (M5), the exceptions register (M16), documented
non-applicability (M17) and the new M18 figures, fed in-memory rows: the pack's figures are
recomputed here from the sample rows, never copied from the renderer."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from statistics import median

import pytest
from conftest import pack_text_files
from report_samples import CONTROL_MATRIX, EXCEPTIONS, MFA_COVERAGE, SIEM_ALERTS, sample_tables

from report.formatting import label
from report.pack import HTML_NAME
from report.period import Period
from report.pseudonyms import Pseudonymiser
from report.sections import controls, identity_access, incidents
from report.sections.base import PackContext
from report.warehouse import InMemorySource, load_marts

NEW_MONTHLY_COLUMNS = (
    "mfa_pct",
    "mfa_pct_privileged",
    "privileged_logins_without_mfa",
    "mfa_exceptions_applied",
    "open_exceptions",
    "exceptions_expiring_30d",
    "siem_alerts_at_policy_level",
    "siem_alerts_escalated",
    "siem_alerts_untriaged",
    "siem_alerts_sla_breached",
    "median_ttt_min",
    "controls_not_applicable",
)


def _context(tables, period: Period) -> PackContext:
    marts = load_marts(InMemorySource(tables), period, Pseudonymiser(b"k"))
    return PackContext(
        period, "Example Org", marts, False, datetime(2026, 11, 1, tzinfo=UTC), "test rows", True
    )


def _block(section, key):
    return next(b for b in section.blocks if b.key == key)


def _metrics(block) -> dict:
    return {m.key: m for m in block.metrics}


def _in(period: Period, rows, column):
    return [r for r in rows if period.contains(_moment(r[column]))]


def _moment(value) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _pct(part, whole) -> Decimal:
    exact = Decimal(100 * part) / Decimal(whole)
    return exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _table_rows(table) -> list[dict[str, str]]:
    return [
        {c: cell.value for c, cell in zip(table.columns, row, strict=True)} for row in table.rows
    ]


def test_mfa_figures_come_from_the_mfa_coverage_mart(october):
    block = _block(identity_access.build(_context(sample_tables(), october)), "mfa")
    shown = _metrics(block)
    rows = _in(october, MFA_COVERAGE, "day")
    privileged = [r for r in rows if r["principal_class"] == "privileged"]
    in_scope = sum(r["logins_in_scope"] for r in rows)
    assert shown["mfa_pct"].value == _pct(sum(r["logins_with_mfa"] for r in rows), in_scope)
    assert shown["mfa_pct_privileged"].value == _pct(
        sum(r["logins_with_mfa"] for r in privileged),
        sum(r["logins_in_scope"] for r in privileged),
    )
    assert shown["phishing_resistant_pct"].value == _pct(
        sum(r["logins_phishing_resistant"] for r in rows), in_scope
    )
    without = sum(r["privileged_logins_without_mfa"] for r in rows)
    assert without > 0
    assert shown["privileged_logins_without_mfa"].value == without
    assert shown["privileged_logins_without_mfa"].alarm
    september = _in(october.previous(), MFA_COVERAGE, "day")
    assert shown["privileged_logins_without_mfa"].previous == sum(
        r["privileged_logins_without_mfa"] for r in september
    )
    assert shown["mfa_exceptions_applied"].value == sum(r["exceptions_applied"] for r in rows)
    assert block.charts
    assert block.charts[0].key == "mfa-coverage"


def test_the_privileged_block_leaves_the_mfa_count_to_the_mfa_coverage_mart(october):
    block = _block(identity_access.build(_context(sample_tables(), october)), "privileged")
    assert not any("mfa" in m.key for m in block.metrics)


def test_mfa_table_totals_each_group_and_keeps_excepted_logins_apart(october):
    block = _block(identity_access.build(_context(sample_tables(), october)), "mfa")
    groups = {r["application"]: r for r in _table_rows(block.tables[0])}
    rows = _in(october, MFA_COVERAGE, "day")
    admin = [r for r in rows if r["application"] == "security-admin-console"]
    assert groups["security-admin-console"]["logins"] == str(sum(r["logins"] for r in admin))
    assert groups["security-admin-console"]["target_status"] == "below_target"
    assert groups["hr-sync"]["target_status"] == "all_excepted"
    assert groups["hr-sync"]["mfa_pct"] == ""  # nothing in scope: no share, not 0 %
    assert groups["hr-sync"]["exception_ids"] == "EXC-2026-001"


def test_a_missing_mfa_mart_is_no_data_not_zero(october):
    tables = sample_tables()
    del tables["mart_nis2_mfa_coverage"]
    block = _block(identity_access.build(_context(tables, october)), "mfa")
    assert all(m.value is None for m in block.metrics)
    assert block.no_data


def test_siem_alert_handling_figures_equal_the_alert_rows(october):
    block = _block(incidents.build(_context(sample_tables(), october)), "siem-alerts")
    shown = _metrics(block)
    rows = _in(october, SIEM_ALERTS, "first_seen_at")
    before = _in(october.previous(), SIEM_ALERTS, "first_seen_at")
    assert shown["siem_alerts_at_policy_level"].value == len(rows)
    assert shown["siem_alerts_at_policy_level"].previous == len(before)
    for disposition in ("escalated", "untriaged"):
        assert shown[f"siem_alerts_{disposition}"].value == sum(
            r["disposition"] == disposition for r in rows
        )
    assert shown["siem_alerts_sla_breached"].value == sum(r["sla_breached"] for r in rows)
    triaged = [r["ttt_min"] for r in rows if r["ttt_min"] is not None]
    assert shown["median_ttt_min"].value == median(triaged)
    escalated = {r["alert_id"] for r in _table_rows(block.tables[1])}
    assert escalated == {r["alert_id"] for r in rows if r["disposition"] == "escalated"}


def test_the_pack_says_untriaged_means_no_incident_link(october):
    block = _block(incidents.build(_context(sample_tables(), october)), "siem-alerts")
    assert "no incident link, not that the alert was ignored" in block.intro
    assert "No source records alert triage" in block.intro


def test_siem_bands_sum_to_the_period_alerts(october):
    block = _block(incidents.build(_context(sample_tables(), october)), "siem-alerts")
    bands = _table_rows(block.tables[0])
    rows = _in(october, SIEM_ALERTS, "first_seen_at")
    assert sum(int(b["alerts"]) for b in bands) == len(rows)
    assert [b["severity_band"] for b in bands] == ["critical", "high", "medium"]


def _with_not_applicable() -> dict:
    tables = sample_tables()
    extra = {
        **CONTROL_MATRIX[0],
        "ref_id": "13.1.1",
        "requirement_text": "Supporting utilities",
        "status": "not_applicable_documented",
        "exception_ids": "EXC-2026-003",
        "metric_value": None,
    }
    tables["mart_nis2_control_evidence_matrix"] = [*CONTROL_MATRIX, extra]
    return tables


def test_not_applicable_is_counted_apart_and_never_as_pass(october):
    section = controls.build(_context(_with_not_applicable(), october))
    shown = _metrics(_block(section, "overview"))
    passing = sum(r["status"] == "pass" for r in CONTROL_MATRIX)
    assert shown["controls_pass"].value == passing
    assert shown["controls_not_applicable"].value == 1
    listed = _table_rows(_block(section, "not-applicable").tables[0])
    assert listed == [
        {
            "ref_id": "13.1.1",
            "requirement_text": "Supporting utilities",
            "status": "not_applicable_documented",
            "exception_ids": "EXC-2026-003",
        }
    ]
    chapter = _table_rows(_block(section, "annex-13").tables[0])
    assert chapter[0]["status"] == "not_applicable_documented"
    assert chapter[0]["exception_ids"] == "EXC-2026-003"


def test_exceptions_register_lists_every_exception_with_its_expiry(october):
    block = _block(controls.build(_context(sample_tables(), october)), "exceptions")
    listed = {r["exception_id"]: r for r in _table_rows(block.tables[0])}
    assert set(listed) == {r["exception_id"] for r in EXCEPTIONS}
    for row in EXCEPTIONS:
        shown = listed[row["exception_id"]]
        assert shown["status"] == row["status"]
        assert shown["expiring_within_30_days"] == str(row["expiring_within_30_days"]).lower()
    shown = _metrics(block)
    assert shown["exceptions_expiring_30d"].value == sum(
        r["expiring_within_30_days"] for r in EXCEPTIONS
    )
    assert shown["exceptions_in_force"].value == sum(r["is_valid"] for r in EXCEPTIONS)
    assert shown["exceptions_expired"].value == sum(r["expired"] for r in EXCEPTIONS)


def test_the_register_shows_root_cause_and_each_stage_reference(october):
    tables = sample_tables()
    tables["mart_nis2_reporting_deadlines"] = [
        {**row, "submission_ref": f"CSIRT-{row['stage']}" if row["submitted_at"] else None}
        for row in tables["mart_nis2_reporting_deadlines"]
    ]
    register = _block(incidents.build(_context(tables, october)), "register").tables[0]
    index = register.columns.index("root_cause")
    by_id = {row[0].value: row for row in register.rows}
    for incident in tables["mart_nis2_incident_register"]:
        if incident["incident_id"] in by_id:
            assert by_id[incident["incident_id"]][index].value == (incident["root_cause"] or "")
    stage = by_id["INC-2026-014"][register.columns.index("notification")]
    assert "ref. CSIRT-notification" in stage.text


@pytest.mark.parametrize("column", NEW_MONTHLY_COLUMNS)
def test_every_new_monthly_column_has_a_written_label(column):
    default = column.replace("_", " ")
    assert label(column) != default[:1].upper() + default[1:]


def test_the_pack_exports_the_new_marts_and_pseudonymises_a_user_scoped_exception(
    rendered_pack,
):
    files = pack_text_files(rendered_pack.folder)
    manifest = json.loads(files["manifest.json"])
    for name in (
        "mart_nis2_siem_alert_handling",
        "mart_nis2_mfa_coverage",
        "mart_nis2_exceptions_register",
        "policy_exceptions",
    ):
        assert f"data/{name}.csv" in files
        assert manifest["marts"][name]["status"] == "ok"
    exported = json.loads(files["data/policy_exceptions.json"])["rows"]
    user_scoped = [r for r in exported if r["scope_type"] == "user"]
    assert user_scoped
    assert all(r["scope_value"].startswith("p_") for r in user_scoped)
    assert all("mallory" not in text for text in files.values())
    html = files[HTML_NAME]
    assert 'data-metric="privileged_logins_without_mfa"' in html
    assert 'id="table-exceptions"' in html
