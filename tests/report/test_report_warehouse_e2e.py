"""End to end: the pack rendered from the warehouse in which the demo job has run, checked
against the marts themselves (queried here directly, not through the report's own reader)."""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal

import psycopg
import pypdf
import pytest
from psycopg.rows import dict_row
from report_browser import visit
from report_html import PackHtml

from report.cli import main
from report.manifest import verify
from report.pack import HTML_NAME, PDF_NAME, pack_folder_name
from report.period import parse_period

pytestmark = pytest.mark.integration

SECTION_TITLES = (
    "1. Management summary",
    "2. Incident register",
    "3. Notification drafts",
    "4. Control-evidence matrix",
    "5. Identity and access",
    "6. Logging",
    "7. Appendix: methods, thresholds and data freshness",
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


@pytest.fixture(scope="module")
def late_incident(marts) -> dict:
    found = marts.rows(
        "select d.incident_id, d.submitted_at, d.due_at, r.aware_at from {s}.mart_nis2_reporting_"
        "deadlines d join {s}.mart_nis2_incident_register r using (incident_id) "
        "where d.stage = 'notification' and d.status = 'breached' and d.submitted_at > d.due_at "
        "and r.is_significant order by r.aware_at"
    )
    assert found, "the simulated organisation has a significant incident notified late"
    return found[0]


@pytest.fixture(scope="module")
def pack(warehouse_dsn, late_incident, tmp_path_factory):
    period = parse_period(f"{late_incident['aware_at']:%Y-%m}")
    out = tmp_path_factory.mktemp("warehouse-pack")
    code = main(
        [
            "render",
            "--period",
            period.label,
            "--out",
            str(out),
            "--entity",
            "Simulated Org",
            "--dsn",
            warehouse_dsn,
        ]
    )
    assert code == 0
    folder = out / pack_folder_name(period, internal_names=False)
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


def test_every_annex_requirement_appears(pack, marts):
    listed = {
        value
        for table, cells in pack["parsed"].table_cells.items()
        if table.startswith("table-matrix-")
        for column, value in cells
        if column == "ref_id"
    }
    expected = {
        r["ref_id"]
        for r in marts.rows("select distinct ref_id from {s}.mart_nis2_control_evidence_matrix")
    }
    assert expected
    assert expected <= listed


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
