"""Issue 20: the board page, figures tied to the exports, a filing-grade PDF, the data
dictionary, the approvers an auditor can verify and the CISO Assistant export.

Expected values are counted by hand from report_samples.py; recomputations read the pack's
CSV files with this module's own code, never the report's."""

from __future__ import annotations

import csv
import itertools
import re
from html.parser import HTMLParser
from pathlib import Path

import pypdf
import pytest
from report_samples import EXCEPTIONS, mart_key, sample_tables

from report.pack import HTML_NAME, PDF_NAME, render_pack
from report.pdf import write_pdf
from report.period import parse_period
from report.warehouse import InMemorySource

REPO = Path(__file__).resolve().parents[2]
LIBRARY_NODES = Path(__file__).parent / "data" / "ciso_nis2_annex_urns.tsv"
URN = "urn:intuitem:risk:req_node:annex-technical-and-methodological-requirements-nis2:"
# Our sample requirements mapped by hand to nodes of the library (see LIBRARY_NODES).
MAPPING = [
    {"ref_id": ref, "ciso_ref_id": node, "ciso_urn": URN + node, "relation": relation}
    for ref, node, relation in (
        ("2.2.1", "2.2.1", "same"),
        ("3.2.3", "3.2.3", "same"),
        ("3.2.3", "3.2.3.a", "part_of"),
        ("3.2.5", "3.2.5", "same"),
        ("11.2.3", "11.2.3", "same"),
        ("11.5.4", "11.5.4", "same"),
    )
]
THRESHOLDS = [
    {"threshold_code": code, "entity_type": kind, "value": 1, "source_citation": "IR"}
    for code, kind in (
        ("ART23_EARLY_WARNING_HOURS", "all"),
        ("IR11_USERS_PCT", "online_marketplace"),
        ("IR5_A_UNAVAILABLE_MINUTES", "dns_service"),
    )
]
PROFILE = [
    {
        "entity_id": "simulated-org",
        "legal_name": "Example Org",
        "ir_entity_types": "online_marketplace",
    }
]
# One register row names a person instead of a role: the public pack must not show it.
PERSON_APPROVER = "Jane Roe"
HAND_COUNTED = {
    "incidents": "2",
    "significant_incidents": "1",
    "stages_breached": "1",
    "stages_open_at_risk": "0",
    "controls_fail": "1",
    "controls_no_data": "1",
    "controls_not_assessed": "1",  # 11.5.4 is in the seed, not in the matrix
    "controls_manual": "1",
    "privileged_logins_without_mfa": "2",  # (4 - 3) + (3 - 2)
    "mfa_below_target": "0",
    "unapproved_assignments": "1",
    "tamper_detections": "1",
    "unexplained_gaps": "1",
    "siem_sla_breached": "2",  # 1790.3 and 1790.4; 1780.1 is September
    "exceptions_invalid": "0",
    "exceptions_expiring": "1",
}
AREAS = {
    "incidents": "red",
    "controls": "red",
    "access": "red",
    "logging": "red",
    "exceptions": "amber",
}


def tables() -> dict:
    exceptions = [dict(row) for row in EXCEPTIONS]
    exceptions[1]["approved_by"] = PERSON_APPROVER
    return {
        **sample_tables(),
        "mart_nis2_exceptions_register": exceptions,
        "nis2_thresholds": THRESHOLDS,
        "nis2_entity_profile": PROFILE,
        "ciso_assistant_nis2_annex_map": MAPPING,
    }


@pytest.fixture(scope="module")
def pack(tmp_path_factory, pseudonym_key):
    return render_pack(
        InMemorySource(tables()), parse_period("2026-10"), None, tmp_path_factory.mktemp("board")
    )


@pytest.fixture(scope="module")
def html(pack):
    return (pack.folder / HTML_NAME).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pages(pack):
    return [page.extract_text() for page in pypdf.PdfReader(pack.folder / PDF_NAME).pages]


class Attributes(HTMLParser):
    """Attributes of every element carrying `wanted`, and all text outside tags."""

    def __init__(self, wanted: str) -> None:
        super().__init__()
        self.wanted, self.found, self.text = wanted, [], []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if self.wanted in found:
            self.found.append(found)

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str, wanted: str) -> Attributes:
    parser = Attributes(wanted)
    parser.feed(html)
    return parser


def read_csv(folder: Path, export: str) -> list[dict[str, str]]:
    with (folder / export).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def recompute(folder: Path, figure: dict[str, str]) -> str:
    """A board figure from its CSV, by the rule its row states."""
    rows = read_csv(folder, figure["data-export"])
    column, equals = figure["data-column"], figure["data-equals"]
    kind = figure["data-kind"]
    if kind == "rows":
        return str(len(rows))
    if kind == "count":
        return str(sum(1 for row in rows if row[column] == equals))
    if kind == "sum":
        total = sum(float(row[column]) for row in rows if row[column])
        return str(int(total)) if total.is_integer() else str(total)
    if kind == "missing":
        known = {row[column] for row in read_csv(folder, f"data/{equals}.csv")}
        return str(sum(1 for row in rows if row[column] not in known))
    raise AssertionError(f"unknown rule {kind!r}: the test cannot recompute it")


def test_every_summary_figure_equals_its_csv(pack, html):
    figures = parse(html, "data-metric").found
    summary = [f for f in figures if f["data-metric"].startswith(("board.", "monthly."))]
    assert len(summary) >= len(HAND_COUNTED) + 4
    for figure in summary:
        assert figure.get("data-export"), f"{figure['data-metric']} names no export"
        if figure["data-metric"].startswith("board."):
            assert recompute(pack.folder, figure) == figure["data-value"], figure
            continue
        rows = read_csv(pack.folder, figure["data-export"])
        row = next(r for r in rows if r["report_id"] == figure["data-row"])
        assert row[figure["data-column"]] == figure["data-value"], figure


def test_board_figures_equal_the_hand_counted_samples(html):
    values = {
        f["data-board-figure"]: f["data-value"] for f in parse(html, "data-board-figure").found
    }
    assert values == HAND_COUNTED
    shown = {f["data-area"]: f["data-status"] for f in parse(html, "data-area").found}
    assert shown == AREAS


def test_an_area_whose_figures_cannot_be_read_is_no_data_never_green(tmp_path, pseudonym_key):
    without = {k: v for k, v in tables().items() if k != "mart_nis2_reporting_deadlines"}
    without["mart_nis2_exceptions_register"] = []  # read, empty: nothing expiring
    result = render_pack(
        InMemorySource(without), parse_period("2026-10"), None, tmp_path, pdf=False
    )
    html = (result.folder / HTML_NAME).read_text(encoding="utf-8")
    shown = {f["data-area"]: f["data-status"] for f in parse(html, "data-area").found}
    assert shown["incidents"] == "no_data"
    assert shown["exceptions"] == "green"
    values = {
        f["data-board-figure"]: f["data-value"] for f in parse(html, "data-board-figure").found
    }
    assert values["stages_breached"] == ""  # no value, not 0
    assert "Stages missed: — (no data)" in html or "missed: <b>— (no data)</b>" in html


def test_board_page_is_page_one_and_fits_on_it(pages):
    first = pages[0]
    assert "1. Board summary" in first
    for part in ("Status per area", "Top findings", "Decisions needed", "Comments: ____"):
        assert part in first, part
    assert "Approval by the management body" in first
    assert "Comments: ____" not in pages[1]
    assert "RED" in first
    assert "AMBER" in first


def test_every_page_has_a_number_and_the_running_header(pack, pages):
    total = len(pages)
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {total}" in text, number
        assert f"document {pack.pack_id}" in text, number
        assert "2026-10" in text, number
        assert "TLP:AMBER" in text, number


def test_the_contents_give_the_page_of_each_chapter(pages):
    contents = next(text for text in pages if "Contents" in text)
    entries = re.findall(r"^(\d+)\. (.+?) [. ]+ (\d+)$", contents, re.M)
    assert len(entries) == 8
    for number, title, page in entries:
        assert f"{number}. {title}" in pages[int(page) - 1], (number, title, page)


def test_wide_chapters_are_printed_landscape(pack, pages):
    reader = pypdf.PdfReader(pack.folder / PDF_NAME)
    matrix = next(i for i, text in enumerate(pages) if "5. Control-evidence matrix\nDir." in text)
    box = reader.pages[matrix].mediabox
    assert box.width > box.height
    assert reader.pages[0].mediabox.width < reader.pages[0].mediabox.height


def split_words(pages: list[str], vocabulary: set[str]) -> list[str]:
    """Adjacent fragments of the PDF text that form a word of the HTML while neither fragment
    is one: a word broken across lines (or 'Exceptio n')."""
    chunks = " ".join(pages).replace("\u200b", "").split()
    found = []
    for left, right in itertools.pairwise(chunks):
        tail = re.search(r"[A-Za-z]+$", left)
        head = re.match(r"[A-Za-z]+", right)
        if not tail or not head:
            continue
        a, b = tail[0].lower(), head[0].lower()
        joined = a + b
        if (
            len(joined) >= 4
            and joined in vocabulary
            and a not in vocabulary
            and b not in vocabulary
        ):
            found.append(f"{left} {right}")
    return found


def vocabulary_of(html: str) -> set[str]:
    text = " ".join(parse(html, "-").text)
    return {word.lower() for word in re.findall(r"[A-Za-z]+", text)}


def test_no_word_is_split_inside_a_table_cell(html, pages):
    assert split_words(pages, vocabulary_of(html)) == []


def test_the_split_word_check_finds_a_split(tmp_path):
    narrow = (
        "<html><body><table style='width: 60px; table-layout: fixed'><tr><th "
        "style='overflow-wrap: anywhere'>Exception identifiers</th></tr></table></body></html>"
    )
    write_pdf(narrow, tmp_path / "narrow.pdf")
    text = [p.extract_text() for p in pypdf.PdfReader(tmp_path / "narrow.pdf").pages]
    assert split_words(text, {"exception", "identifiers"}) != []


def test_only_the_entity_types_thresholds_are_shown(pack, html):
    cells = [
        f["data-value"]
        for f in parse(html, "data-column").found
        if f["data-column"] == "threshold_code"
    ]
    assert cells == ["ART23_EARLY_WARNING_HOURS", "IR11_USERS_PCT"]
    assert "1 thresholds for other entity types are left out" in html
    exported = {r["threshold_code"] for r in read_csv(pack.folder, "data/nis2_thresholds.csv")}
    assert "IR5_A_UNAVAILABLE_MINUTES" in exported


def test_the_classification_is_configurable(tmp_path, pseudonym_key, monkeypatch):
    monkeypatch.setenv("NIS2_REPORT_CLASSIFICATION", 'Confidential "board"')
    result = render_pack(
        InMemorySource(tables()), parse_period("2026-10"), None, tmp_path, pdf=False
    )
    html = (result.folder / HTML_NAME).read_text(encoding="utf-8")
    assert '@top-right { content: "Confidential \\"board\\""; }' in html
    assert 'data-classification="Confidential &#34;board&#34;"' in html


def test_the_data_dictionary_explains_every_exported_column(pack):
    dictionary = read_csv(pack.folder, "data/data-dictionary.csv")
    described = {(r["file"], r["column"]): r for r in dictionary}
    for path in sorted((pack.folder / "data").glob("*.csv")):
        if path.name.startswith("data-dictionary"):
            continue
        with path.open(encoding="utf-8") as handle:
            header = next(csv.reader(handle), [])
        for column in header:
            assert (f"data/{path.name}", column) in described, (path.name, column)
    incident = described[("data/mart_nis2_incident_register.csv", "incident_id")]
    assert incident["description"] == "Incident identifier from the register."  # dbt yml
    assert incident["documented_in"] == "transform/models/marts/nis2/_nis2__marts.yml"
    assert described[("data/mart_nis2_reporting_deadlines.csv", "hours_late")]["label"]


def test_the_public_pack_shows_roles_and_pseudonymises_a_person_approver(pack):
    rows = {
        r["exception_id"]: r
        for r in read_csv(pack.folder, "data/mart_nis2_exceptions_register.csv")
    }
    assert rows["EXC-2025-004"]["approved_by"] == "CISO"
    assert rows["EXC-2026-002"]["approved_by"] == mart_key(PERSON_APPROVER)
    html = (pack.folder / HTML_NAME).read_text(encoding="utf-8")
    assert PERSON_APPROVER not in html
    assert "asks the compliance officer for the internal pack" in html


def test_the_internal_pack_names_the_approver(tmp_path, pseudonym_key):
    result = render_pack(
        InMemorySource(tables()),
        parse_period("2026-10"),
        None,
        tmp_path,
        internal_names=True,
        pdf=False,
    )
    rows = {
        r["exception_id"]: r
        for r in read_csv(result.folder, "data/mart_nis2_exceptions_register.csv")
    }
    assert rows["EXC-2026-002"]["approved_by"] == PERSON_APPROVER
    assert rows["EXC-2025-004"]["approved_by"] == "CISO"
    assert 'data-classification="TLP:RED"' in (result.folder / HTML_NAME).read_text()


def test_the_ciso_assistant_export_carries_our_status_per_library_node(pack):
    rows = read_csv(pack.folder, "data/ciso-assistant-nis2-annex-assessment.csv")
    result = {r["urn"].removeprefix(URN): r["compliance_result"] for r in rows}
    assert result == {
        "2.2.1": "not_assessed",  # manual_required
        "3.2.3": "compliant",
        "3.2.3.a": "compliant",
        "3.2.5": "non_compliant",
        "11.2.3": "not_assessed",  # no_data
        "11.5.4": "not_assessed",  # in the seed, not in the matrix
    }
    failing = next(r for r in rows if r["ref_id"] == "3.2.5")
    assert failing["assessable"] == "True"
    assert failing["requirement_progress"] == "in_review"
    assert "fail for Annex 3.2.5" in failing["observations"]
    assert "measured: 92.5" in failing["observations"]
    assert "data/mart_nis2_control_evidence_matrix.csv" in failing["observations"]
    unknown = next(r for r in rows if r["ref_id"] == "11.2.3")
    assert unknown["requirement_progress"] == ""  # never written over the auditor's progress


def test_the_data_wizard_can_read_the_export(pack):
    """What CISO Assistant's Data Wizard does with a CSV: headers lower-cased, rows without a
    true `assessable` skipped, a node found by ref_id or urn, only accepted result values."""
    accepted = {
        "not_assessed",
        "partially_compliant",
        "non_compliant",
        "compliant",
        "not_applicable",
    }
    rows = read_csv(pack.folder, "data/ciso-assistant-nis2-annex-assessment.csv")
    header = list(rows[0])
    assert header == [h.lower() for h in header]
    for needed in ("ref_id", "urn", "assessable", "compliance_result", "observations"):
        assert needed in header
    for row in rows:
        assert row["assessable"] in {"True", "true"}
        assert row["ref_id"] or row["urn"]
        assert row["compliance_result"] in accepted


def library_nodes() -> dict[str, tuple[str, str]]:
    lines = [line for line in LIBRARY_NODES.read_text().splitlines() if not line.startswith("#")]
    reader = csv.DictReader(lines, delimiter="\t")
    return {row["urn"]: (row["ref_id"], row["assessable"]) for row in reader}


def test_every_mapped_urn_exists_in_the_ciso_assistant_library():
    nodes = library_nodes()
    assert len(nodes) == 439  # objects.framework.requirement_nodes of the library file
    seed = REPO / "transform" / "seeds"
    with (seed / "ciso_assistant_nis2_annex_map.csv").open(encoding="utf-8") as handle:
        mapping = list(csv.DictReader(handle))
    with (seed / "nis2_annex_requirements.csv").open(encoding="utf-8") as handle:
        ours = {row["ref_id"] for row in csv.DictReader(handle)}
    assert {row["ref_id"] for row in mapping} == ours
    assert len({row["ciso_urn"] for row in mapping}) == len(mapping)
    for row in mapping:
        ref_id, assessable = nodes[row["ciso_urn"]]
        assert assessable == "true", row["ciso_urn"]
        assert row["ciso_ref_id"] == ref_id
        node = row["ciso_urn"].removeprefix(URN)
        assert node == row["ref_id"] or node.startswith(
            (row["ref_id"] + ".", row["ref_id"] + ":")
        ), row
        assert "8e3bf28168560311f10888dca95a24c6543efa8f" in row["source_citation"]
        assert "library version 12" in row["source_citation"]


def test_the_hand_mapping_of_the_samples_uses_library_urns():
    nodes = library_nodes()
    assert all(row["ciso_urn"] in nodes for row in MAPPING)
