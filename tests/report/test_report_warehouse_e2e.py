"""End to end: the pack rendered from the warehouse in which the demo job has run, checked
against sources independent of the report: the simulator's ground truth (what was planted),
the Annex seed file, and the marts queried here directly (not through the report's reader)."""

from __future__ import annotations

import csv
import ipaddress
import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pypdf
import pytest
import yaml
from psycopg.rows import dict_row
from report_browser import visit
from report_html import PackHtml

from nis2_settings import ROOT
from report.cli import main
from report.manifest import verify
from report.pack import HTML_NAME, PDF_NAME, pack_folder_name
from report.period import Period, parse_period

pytestmark = pytest.mark.integration

ANNEX_SEED = ROOT / "transform" / "seeds" / "nis2_annex_requirements.csv"

SECTION_TITLES = (
    "1. Board summary",
    "2. Management summary",
    "3. Incident register",
    "4. Notification drafts",
    "5. Control-evidence matrix",
    "6. Identity and access",
    "7. Logging",
    "8. Appendix: methods, thresholds and data freshness",
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.])")


class Warehouse:
    """Direct SQL on the marts, independent of the report's data-access layer."""

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg.connect(
            dsn, autocommit=True, row_factory=dict_row, options="-c timezone=UTC"
        )
        self.schema = self.conn.execute(
            "select table_schema from information_schema.tables "
            "where table_name = 'mart_nis2_incident_register'"
        ).fetchone()["table_schema"]

    def rows(self, query: str, params: dict | None = None) -> list[dict]:
        return self.conn.execute(query.replace("{s}", f'"{self.schema}"'), params).fetchall()


@pytest.fixture(scope="module")
def marts(warehouse_dsn) -> Warehouse:
    return Warehouse(warehouse_dsn)


def scenario(ground_truth: dict, scenario_id: str) -> dict:
    found = [s for s in ground_truth["scenarios"] if s["id"] == scenario_id]
    assert found, f"the ground truth of the test run plants the scenario {scenario_id}"
    return found[0]


def month_of(moment: str) -> Period:
    return parse_period(f"{datetime.fromisoformat(moment):%Y-%m}")


@pytest.fixture(scope="module")
def demo_key() -> Iterator[str]:
    """The pseudonym key the demo environment gives dbt (meltano.yml), as NIS2_PSEUDONYM_KEY."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    demo = next(e for e in project["environments"] if e["name"] == project["default_environment"])
    utilities = demo["config"]["plugins"]["utilities"]
    dbt = next(u for u in utilities if u["name"] == "dbt-postgres")
    key = re.search(r"nis2\.pseudonym_key=(\S+)", dbt["config"]["pg_options"])[1]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NIS2_PSEUDONYM_KEY", key)
        yield key


@pytest.fixture(scope="module")
def ground_truth(pipeline_run) -> dict:
    return pipeline_run.ground_truth


@pytest.fixture(scope="module")
def late_incident(ground_truth) -> dict:
    """The significant incident the simulator notified late: from what was planted, not from
    what the marts concluded."""
    return scenario(ground_truth, "significant_incident_late_notification")["identifiers"]


def render(dsn: str, period: Period, out: Path, *extra: str) -> Path:
    args = ["render", "--period", period.label, "--out", str(out), "--entity", "Simulated Org"]
    assert main([*args, "--dsn", dsn, *extra]) == 0
    return out / pack_folder_name(period, internal_names="--internal-names" in extra)


@pytest.fixture(scope="module")
def pack(warehouse_dsn, late_incident, demo_key, tmp_path_factory):
    period = month_of(late_incident["aware_at"])
    folder = render(warehouse_dsn, period, tmp_path_factory.mktemp("warehouse-pack"))
    html = (folder / HTML_NAME).read_text(encoding="utf-8")
    parsed = PackHtml()
    parsed.feed(html)
    return {"folder": folder, "period": period, "html": html, "parsed": parsed}


def test_the_late_notification_shows_as_breached(pack, late_incident):
    incident = late_incident["incident_id"]
    register = {
        row.get("incident_id"): row for row in pack["parsed"].rows["table-incident-register"]
    }
    assert register[incident]["notification"] == "breached"
    assert pack["parsed"].drafts[(incident, "notification")] == "breached"
    assert pack["parsed"].drafts[(incident, "early_warning")] == "met"


def test_summary_figures_equal_the_mart_values(pack, marts):
    period = pack["period"]
    metrics = pack["parsed"].metrics
    monthly = marts.rows(
        "select * from {s}.mart_nis2_management_monthly_report "
        "where month >= %(start)s and month < %(end)s",
        {"start": period.start, "end": period.end},
    )
    assert monthly, "the management report mart has a row for the period"
    compared = 0
    for column, value in monthly[0].items():
        key = f"monthly.{column}"
        if (
            key in metrics
            and isinstance(value, int | float | Decimal)
            and not isinstance(value, bool)
        ):
            assert Decimal(metrics[key]) == Decimal(str(value)), column
            compared += 1
    assert compared >= 3
    significant = marts.rows(
        "select count(*) as n from {s}.mart_nis2_incident_register where is_significant "
        "and coalesce(aware_at, detected_at) < %(end)s "
        "and (coalesce(handled_at, resolved_at) is null "
        "or coalesce(handled_at, resolved_at) >= %(start)s)",
        {"start": period.start, "end": period.end},
    )[0]["n"]
    assert metrics["significant_incidents"] == str(significant)


def test_every_annex_requirement_appears(pack):
    listed = {
        value
        for table, cells in pack["parsed"].table_cells.items()
        if table.startswith("table-matrix-")
        for column, value in cells
        if column == "ref_id"
    }
    with ANNEX_SEED.open(encoding="utf-8") as handle:
        expected = {row["ref_id"] for row in csv.DictReader(handle)}
    assert len(expected) > 40
    assert expected - listed == set()


def test_pack_rows_carry_the_pseudonyms_of_their_mart_rows(pack, marts):
    shown = pack["parsed"].rows["table-auth-detections"]
    in_mart = {
        (row["detection_type"], row["principal_key"] or "", row["src_ip_key"] or "")
        for row in marts.rows("select * from {s}.mart_nis2_auth_failure_detections")
    }
    in_pack = {
        (row["detection_type"], row.get("principal_key", ""), row.get("src_ip_key", ""))
        for row in shown
        if row
    }
    assert in_pack
    assert in_pack <= in_mart


def test_the_internal_version_names_the_planted_attacker(
    warehouse_dsn, ground_truth, demo_key, tmp_path
):
    planted = scenario(ground_truth, "brute_force")
    identifiers = planted["identifiers"]
    period = month_of(planted["window"]["start"])
    folder = render(warehouse_dsn, period, tmp_path, "--internal-names", "--no-pdf")
    parsed = PackHtml()
    parsed.feed((folder / HTML_NAME).read_text(encoding="utf-8"))
    named = {
        (row.get("principal_key"), row.get("src_ip_key"))
        for row in parsed.rows["table-auth-detections"]
        if row.get("detection_type") == "user_bruteforce"
    }
    assert (identifiers["user_email"], identifiers["src_ip"]) in named
    public = render(warehouse_dsn, period, tmp_path, "--no-pdf")
    assert identifiers["user_email"] not in (public / HTML_NAME).read_text(encoding="utf-8")


def test_chromium_loads_the_pack_offline_and_takes_a_screenshot(pack, tmp_path):
    screenshot = tmp_path / "warehouse-pack.png"
    seen = visit(pack["folder"] / HTML_NAME, screenshot)
    assert seen.console_errors == []
    assert seen.page_errors == []
    assert seen.requests == []
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pdf_has_the_expected_sections(pack, late_incident):
    reader = pypdf.PdfReader(pack["folder"] / PDF_NAME)
    text = "\n".join(page.extract_text() for page in reader.pages)
    for title in SECTION_TITLES:
        assert title in text
    assert late_incident["incident_id"] in text


def test_the_pack_verifies_and_names_no_person_or_ip(pack):
    assert verify(pack["folder"]).ok
    for path in pack["folder"].rglob("*"):
        if path.suffix not in {".html", ".csv", ".json", ".md"}:
            continue
        text = path.read_text(encoding="utf-8")
        assert not EMAIL.search(text), f"an e-mail address in {path.name}"
        addresses = [c for c in IPV4.findall(text) if _is_ip(c)]
        assert addresses == [], f"IP addresses in {path.name}"


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


PERIOD_ROWS = {
    "mart_nis2_management_monthly_report": "select * from {s}.mart_nis2_management_monthly_report "
    "where month >= %(start)s and month < %(end)s",
    "mart_nis2_siem_alert_handling": "select * from {s}.mart_nis2_siem_alert_handling "
    "where first_seen_at >= %(start)s and first_seen_at < %(end)s",
    "mart_nis2_control_evidence_matrix": "select * from {s}.mart_nis2_control_evidence_matrix "
    "where month >= %(start)s and month < %(end)s",
}


def _period_rows(marts: Warehouse, mart: str, period: Period) -> list[dict]:
    return marts.rows(PERIOD_ROWS[mart], {"start": period.start, "end": period.end})


def test_mfa_figures_equal_the_mfa_coverage_mart(pack, marts):
    period, metrics = pack["period"], pack["parsed"].metrics
    figures = marts.rows(
        "select sum(privileged_logins_without_mfa) as without_mfa, "
        "sum(exceptions_applied) as excepted, "
        "round(100.0 * sum(logins_with_mfa) / nullif(sum(logins_in_scope), 0), 1) as mfa_pct, "
        "round(100.0 * sum(logins_phishing_resistant) / nullif(sum(logins_in_scope), 0), 1) "
        "as phishing_resistant_pct, "
        "round(100.0 * sum(logins_with_mfa) filter (where principal_class = 'privileged') "
        "/ nullif(sum(logins_in_scope) filter (where principal_class = 'privileged'), 0), 1) "
        "as mfa_pct_privileged "
        "from {s}.mart_nis2_mfa_coverage where day >= %(start)s and day < %(end)s",
        {"start": period.start, "end": period.end},
    )[0]
    assert figures["without_mfa"] > 0, "the planted Owner signs in without a second factor"
    assert Decimal(metrics["privileged_logins_without_mfa"]) == figures["without_mfa"]
    assert Decimal(metrics["mfa_exceptions_applied"]) == figures["excepted"]
    for column in ("mfa_pct", "phishing_resistant_pct", "mfa_pct_privileged"):
        assert Decimal(metrics[column]) == figures[column], column
    monthly = _period_rows(marts, "mart_nis2_management_monthly_report", period)[0]
    assert Decimal(metrics["mfa_pct"]) == monthly["mfa_pct"]
    assert Decimal(metrics["monthly.privileged_logins_without_mfa"]) == figures["without_mfa"]


def test_siem_alert_figures_equal_the_alert_handling_mart(pack, marts):
    period, metrics = pack["period"], pack["parsed"].metrics
    figures = marts.rows(
        "select count(*) as at_policy_level, "
        "count(*) filter (where disposition = 'escalated') as escalated, "
        "count(*) filter (where disposition = 'untriaged') as untriaged, "
        "count(*) filter (where sla_breached) as sla_breached, "
        "round(cast(percentile_cont(0.5) within group (order by ttt_min) as numeric), 1) "
        "as median_ttt_min "
        "from {s}.mart_nis2_siem_alert_handling "
        "where first_seen_at >= %(start)s and first_seen_at < %(end)s",
        {"start": period.start, "end": period.end},
    )[0]
    assert figures["at_policy_level"] > 0
    for column in ("at_policy_level", "escalated", "untriaged", "sla_breached"):
        assert metrics[f"siem_alerts_{column}"] == str(figures[column]), column
    assert Decimal(metrics["median_ttt_min"]) == figures["median_ttt_min"]
    escalated = {r["alert_id"] for r in pack["parsed"].rows["table-siem-escalated"] if r}
    in_mart = _period_rows(marts, "mart_nis2_siem_alert_handling", period)
    assert escalated == {r["alert_id"] for r in in_mart if r["disposition"] == "escalated"}
    assert "not that the alert was ignored" in pack["html"]


def test_not_applicable_requirements_show_their_exceptions_and_never_pass(pack, marts):
    period, parsed = pack["period"], pack["parsed"]
    documented = [
        r
        for r in _period_rows(marts, "mart_nis2_control_evidence_matrix", period)
        if r["status"] == "not_applicable_documented"
    ]
    assert documented, "the entity-wide exception of the seed documents a requirement"
    shown = {r["ref_id"]: r for r in parsed.rows["table-not-applicable"] if r}
    assert {r["ref_id"]: r["exception_ids"] for r in documented} == {
        ref: row["exception_ids"] for ref, row in shown.items()
    }
    matrix = {
        r["ref_id"]: r["status"]
        for table, rows in parsed.rows.items()
        if table.startswith("table-matrix-")
        for r in rows
        if r
    }
    assert all(matrix[r["ref_id"]] == "not_applicable_documented" for r in documented)
    assert parsed.metrics["controls_not_applicable"] == str(len(documented))


def test_the_exceptions_register_equals_the_mart(pack, marts):
    in_mart = marts.rows("select * from {s}.mart_nis2_exceptions_register")
    shown = {r["exception_id"]: r for r in pack["parsed"].rows["table-exceptions"] if r}
    assert set(shown) == {r["exception_id"] for r in in_mart}
    for row in in_mart:
        assert shown[row["exception_id"]]["status"] == row["status"]
        assert (
            shown[row["exception_id"]]["expiring_within_30_days"]
            == str(row["expiring_within_30_days"]).lower()
        )
    metrics = pack["parsed"].metrics
    assert metrics["exceptions_expiring_30d"] == str(
        sum(bool(r["expiring_within_30_days"]) for r in in_mart)
    )


def test_drafts_carry_each_stage_reference_and_the_register_the_root_cause(
    pack, marts, late_incident
):
    incident = late_incident["incident_id"]
    stages = marts.rows(
        "select stage, submission_ref from {s}.mart_nis2_reporting_deadlines "
        "where incident_id = %(id)s and submission_ref is not null",
        {"id": incident},
    )
    drafted = [s for s in stages if s["stage"] in {"early_warning", "notification", "final"}]
    assert drafted, "the late incident's submissions carry references"
    for stage in drafted:
        draft = (pack["folder"] / "drafts" / f"{incident}_{stage['stage']}.md").read_text()
        assert f"Submission reference: {stage['submission_ref']}" in draft
    register = {r.get("incident_id"): r for r in pack["parsed"].rows["table-incident-register"]}
    root_cause = marts.rows(
        "select root_cause from {s}.mart_nis2_incident_register where incident_id = %(id)s",
        {"id": incident},
    )[0]["root_cause"]
    assert root_cause
    assert register[incident]["root_cause"] == root_cause


def test_no_raw_keycloak_user_of_the_mfa_scenario_is_in_the_pack(pack, ground_truth):
    planted = scenario(ground_truth, "privileged_login_without_mfa")["identifiers"]
    raw = [planted["keycloak_user_id"], planted["late_enroller_keycloak_user_id"]]
    raw.append(planted["user_email"])
    for path in pack["folder"].rglob("*"):
        if path.suffix in {".html", ".csv", ".json", ".md"}:
            text = path.read_text(encoding="utf-8").lower()
            assert not [value for value in raw if value.lower() in text], path.name
