"""The rendered pack (in-memory marts): self-contained HTML, content equal to the marts, PDF
sections, exports, pseudonyms and the digest manifest."""

import csv
import json
import re

import pypdf
import pytest
from conftest import CountingSource, pack_text_files
from report_html import PackHtml
from report_samples import (
    ANNEX_REQUIREMENTS,
    AUTH_FAILURES,
    CONTROL_MATRIX,
    MONTHLY,
    mart_key,
    sample_tables,
)

from report.manifest import verify
from report.marts import BY_NAME
from report.pack import HTML_NAME, PDF_NAME, render_pack
from report.period import parse_period
from report.warehouse import InMemorySource

SECTION_TITLES = (
    "Board summary",
    "Management summary",
    "Incident register",
    "Notification drafts",
    "Control-evidence matrix",
    "Identity and access",
    "Logging",
    "Appendix: methods, thresholds and data freshness",
)
PERSONAL = ("example.org", "203.0.113.7", "198.51.100.23", "192.0.2.44", "alice", "carol")


@pytest.fixture(scope="module")
def html(rendered_pack):
    return (rendered_pack.folder / HTML_NAME).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def parsed(html):
    collector = PackHtml()
    collector.feed(html)
    return collector


def test_html_is_self_contained(html, parsed):
    assert parsed.external == []
    assert not re.search(r"url\((?!#)|@import|https?://(?!www\.w3\.org/)", html)
    assert html.count("<svg") >= 5  # the charts are inline


def test_summary_figures_equal_the_mart_values(parsed):
    october = MONTHLY[0]
    for column in ("incidents_total", "significant_incidents", "stages_breached"):
        assert parsed.metrics[f"monthly.{column}"] == str(october[column])
    assert float(parsed.metrics["monthly.mfa_coverage_pct"]) == float(october["mfa_coverage_pct"])
    assert parsed.metrics["incidents"] == "2"
    assert parsed.metrics["significant_incidents"] == "1"
    assert parsed.metrics["stages_breached"] == "1"
    assert parsed.metrics["controls_fail"] == "1"


def test_the_previous_month_gives_the_trend(html):
    assert re.search(
        r'data-metric="monthly.incidents_total".*?<td class="num">4</td>\s*'
        r'<td class="num">-2</td>',
        html,
        re.S,
    )


def test_key_facts_are_compared_with_the_previous_period(parsed):
    incidents, breached = "board.incidents", "board.stages_breached"
    assert (parsed.metrics[incidents], parsed.previous[incidents]) == ("2", "1")
    assert (parsed.metrics[breached], parsed.previous[breached]) == ("1", "0")
    assert parsed.previous["monthly.incidents_total"] == "4"


def test_the_late_notification_shows_as_breached(parsed):
    assert ("notification", "breached") in parsed.cells
    assert ("early_warning", "met") in parsed.cells


def test_every_annex_requirement_appears_with_its_status(parsed):
    matrix = [
        cell
        for table, cells in parsed.table_cells.items()
        if table.startswith("table-matrix-")
        for cell in cells
    ]
    listed = [value for column, value in matrix if column == "ref_id"]
    assert listed == ["2.2.1", "3.2.3", "3.2.5", "11.2.3", "11.5.4"]
    assert {r["ref_id"] for r in ANNEX_REQUIREMENTS} <= set(listed)
    statuses = dict(zip(listed, (v for c, v in matrix if c == "status"), strict=True))
    assert statuses == {**{r["ref_id"]: r["status"] for r in CONTROL_MATRIX}, "11.5.4": "no_data"}
    assert parsed.metrics["controls_total"] == "5"
    assert parsed.metrics["controls_no_data"] == "2"


def test_a_missing_mart_is_shown_as_no_data(html):
    assert "no data: mart mart_nis2_access_review_status does not exist" in html
    assert "no data: mart mart_nis2_access_anomalies has no rows for this period" in html


def test_nothing_personal_is_in_any_file_of_the_pseudonymised_pack(rendered_pack):
    for name, text in pack_text_files(rendered_pack.folder).items():
        for secret in PERSONAL:
            assert secret not in text, f"{secret!r} leaked into {name}"


def test_pdf_has_every_section(rendered_pack):
    reader = pypdf.PdfReader(rendered_pack.folder / PDF_NAME)
    text = "\n".join(page.extract_text() for page in reader.pages)
    for number, title in enumerate(SECTION_TITLES, start=1):
        assert f"{number}. {title}" in text
    assert "breached" in text
    assert "INC-2026-014" in text
    assert "Approval by the management body (Dir. Art. 20(1))" in text


def test_every_mart_is_exported_as_csv_and_json_with_the_period_rows(rendered_pack):
    data = rendered_pack.folder / "data"
    for name in (name for name in sample_tables() if name in BY_NAME):  # marts and seeds
        assert (data / f"{name}.csv").exists()
        assert (data / f"{name}.json").exists()
    register = json.loads((data / "mart_nis2_incident_register.json").read_text())
    assert register["row_count"] == 2
    assert register["rows"][0]["aware_at"] == "2026-10-03T10:00:00+00:00"
    with (data / "mart_nis2_api_activity_daily.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 31
    assert rows[0]["day"] == "2026-10-01"
    missing = json.loads((data / "mart_nis2_access_review_status.json").read_text())
    assert missing["status"] == "missing"
    assert missing["rows"] == []


def test_drafts_are_written_as_files(rendered_pack):
    drafts = sorted(p.name for p in (rendered_pack.folder / "drafts").iterdir())
    assert drafts == [
        "INC-2026-014_early_warning.json",
        "INC-2026-014_early_warning.md",
        "INC-2026-014_final.json",
        "INC-2026-014_final.md",
        "INC-2026-014_notification.json",
        "INC-2026-014_notification.md",
    ]


def test_manifest_lists_every_file_and_verifies(rendered_pack):
    manifest = json.loads((rendered_pack.folder / "manifest.json").read_text())
    listed = {entry["path"] for entry in manifest["files"]}
    on_disk = {
        p.relative_to(rendered_pack.folder).as_posix()
        for p in rendered_pack.folder.rglob("*")
        if p.is_file()
    }
    assert listed == on_disk - {"manifest.json", "SHA256SUMS"}
    assert manifest["pseudonymised"] is True
    assert verify(rendered_pack.folder).ok


def test_pack_rows_carry_the_marts_own_pseudonyms(parsed):
    shown = {
        value
        for table, cells in parsed.table_cells.items()
        if table.startswith("table-auth-")
        for column, value in cells
        if column in {"principal_key", "src_ip_key"}
    }
    assert mart_key("dave@example.org") == AUTH_FAILURES[1]["principal_key"]
    assert {AUTH_FAILURES[1]["principal_key"], AUTH_FAILURES[1]["src_ip_key"]} <= shown


def test_internal_version_names_the_pseudonyms_and_is_a_separate_pack(
    tmp_path, october, pseudonym_key
):
    result = render_pack(
        InMemorySource(sample_tables()),
        october,
        "Example Org",
        tmp_path,
        internal_names=True,
        pdf=False,
    )
    assert result.folder.name.endswith("_internal")
    html = (result.folder / HTML_NAME).read_text()
    for identity in ("dave@example.org", "192.0.2.44", "erin@example.org", "frank@example.org"):
        assert identity in html
        assert mart_key(identity) not in html
    assert "203.0.113.7" in html
    assert "INTERNAL VERSION" in html
    assert not [p for p in result.data_problems if "could not be named" in p]


def test_pseudonyms_the_warehouse_cannot_name_are_reported(tmp_path, october, pseudonym_key):
    tables = sample_tables()
    del tables["int_privilege_changes"]  # erin and frank are nowhere in the warehouse (of 8:
    # 7 people and addresses in the marts plus the user-scoped exception)
    result = render_pack(
        InMemorySource(tables), october, "Example Org", tmp_path, internal_names=True, pdf=False
    )
    assert "2 of 8 pseudonyms could not be named" in " ".join(result.data_problems)
    html = (result.folder / HTML_NAME).read_text()
    assert mart_key("erin@example.org") in html
    assert "2 pseudonyms matched no identity in the warehouse" in html


def test_rendering_reads_each_mart_once(tmp_path, october):
    source = CountingSource(sample_tables())
    render_pack(source, october, "Example Org", tmp_path, pdf=False)
    assert source.reads
    assert len(source.reads) == len(set(source.reads))


def test_rerendering_replaces_the_pack_and_leaves_no_temporary_folder(tmp_path, october):
    source = InMemorySource(sample_tables())
    first = render_pack(source, october, "Example Org", tmp_path, pdf=False)
    (first.folder / "stray.txt").write_text("left from before")
    second = render_pack(source, october, "Example Org", tmp_path, pdf=False)
    assert second.folder == first.folder
    assert not (second.folder / "stray.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == [first.folder.name]


def test_a_half_pack_left_by_a_killed_render_is_removed_by_the_next(tmp_path, october):
    half = tmp_path / ".nis2-evidence-pack_2026-10.k1ll3d"
    half.mkdir()
    (half / HTML_NAME).write_text("<html>half")
    other = tmp_path / ".nis2-evidence-pack_2026-11.busy"  # another period's render: kept
    other.mkdir()
    result = render_pack(
        InMemorySource(sample_tables()), october, "Example Org", tmp_path, pdf=False
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([result.folder.name, other.name])


def test_a_failure_while_writing_leaves_the_previous_pack_intact(tmp_path, october, monkeypatch):
    source = InMemorySource(sample_tables())
    good = render_pack(source, october, "Example Org", tmp_path, pdf=False)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("report.pack.write_exports", broken)
    with pytest.raises(OSError, match="disk full"):
        render_pack(source, october, "Example Org", tmp_path, pdf=False)
    assert verify(good.folder).ok
    assert [p.name for p in tmp_path.iterdir()] == [good.folder.name]


def test_the_entity_profile_seed_names_the_entity_when_none_is_given(tmp_path, october):
    tables = sample_tables()
    tables["nis2_entity_profile"] = [
        {
            "entity_id": "simulated-org",
            "legal_name": "Example Marketplace GmbH",
            "member_state": "DE",
            "entity_class": "important",
            "ir_entity_types": "online_marketplace",
        }
    ]
    result = render_pack(InMemorySource(tables), october, None, tmp_path, pdf=False)
    html = (result.folder / HTML_NAME).read_text()
    assert "NIS2 evidence pack: Example Marketplace GmbH" in html
    assert "important entity (Dir. Art. 3)" in html


def test_a_period_without_data_still_renders_every_section(tmp_path):
    result = render_pack(
        InMemorySource({}), parse_period("2026-10"), "Example Org", tmp_path, pdf=False
    )
    html = (result.folder / HTML_NAME).read_text()
    for title in SECTION_TITLES:
        assert title in html
    assert html.count('data-no-data="true"') >= 15
    assert len(result.data_problems) == len(BY_NAME)  # one per mart and seed: all missing
