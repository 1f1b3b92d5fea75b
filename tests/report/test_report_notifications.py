"""Art. 23 drafts: one set per significant incident, every content item present, gaps flagged."""

from datetime import UTC, datetime

from report_samples import sample_tables

from report.pseudonyms import Pseudonymiser
from report.sections.base import PackContext
from report.sections.notifications import MISSING_TEXT, drafts_for
from report.warehouse import InMemorySource, load_marts


def _context(tables, period):
    marts = load_marts(InMemorySource(tables), period, Pseudonymiser(b"k"))
    return PackContext(
        period, "Example Org", marts, False, datetime(2026, 11, 1, tzinfo=UTC), "test rows", True
    )


def test_three_drafts_for_the_significant_incident_only(october):
    drafts = drafts_for(_context(sample_tables(), october))
    assert [(d.incident_id, d.stage) for d in drafts] == [
        ("INC-2026-014", "early_warning"),
        ("INC-2026-014", "notification"),
        ("INC-2026-014", "final"),
    ]


def test_each_draft_carries_its_deadline_status(october):
    drafts = {d.stage: d for d in drafts_for(_context(sample_tables(), october))}
    assert drafts["early_warning"].status == "met"
    assert drafts["notification"].status == "breached"
    assert drafts["final"].status == "open_ok"
    assert "- Due: 2026-10-06 10:00 UTC" in drafts["notification"].as_markdown()
    assert "- Submitted: 2026-10-07 09:00 UTC" in drafts["notification"].as_markdown()


def test_content_items_required_by_art_23_4_are_filled_from_the_data(october):
    drafts = {d.stage: d for d in drafts_for(_context(sample_tables(), october))}
    early = {i.requirement: i.value for i in drafts["early_warning"].items}
    assert early == {
        "Suspected to be caused by unlawful or malicious acts": "yes",
        "Could have a cross-border impact": "yes",
    }
    notification = {i.code: i for i in drafts["notification"].items}
    assert notification["(3)"].value == "high"
    assert "1,250" in notification["(4)"].value
    assert "3(1)(e)" in notification["(5)"].value
    final = {i.code: i for i in drafts["final"].items}
    assert final["(ii)"].value == "password reuse without MFA"
    assert all(d.missing_count == 0 for d in drafts.values())


def test_facts_the_data_lacks_are_flagged_missing_not_dropped(october):
    tables = sample_tables()
    incident = dict(tables["mart_nis2_incident_register"][0])
    for column in (
        "root_cause",
        "root_cause_key",
        "category",
        "cross_border_possible",
        "contained_at",
        "resolved_at",
        "iocs_count",
        "iocs",
    ):
        incident[column] = None
    tables["mart_nis2_incident_register"] = [incident]
    drafts = {d.stage: d for d in drafts_for(_context(tables, october))}
    final = drafts["final"]
    missing = [i.code for i in final.items if i.missing]
    assert missing == ["(ii)", "(iii)", "(iv)"]
    assert final.as_markdown().count(MISSING_TEXT) == 3 + final.form_missing_count
    assert drafts["early_warning"].missing_count == 1
    assert [i.code for i in drafts["notification"].items if i.missing] == ["(2)", "(6)"]


def test_no_deadline_row_is_noted_in_the_draft(october):
    tables = sample_tables()
    tables["mart_nis2_reporting_deadlines"] = []
    drafts = drafts_for(_context(tables, october))
    assert len(drafts) == 3
    assert all(d.status == "no deadline row" for d in drafts)
    assert all("No deadline row" in d.as_markdown() for d in drafts)


def test_an_ongoing_incident_gets_the_progress_report_note(october):
    assert "Art. 23(4)(e)" not in drafts_for(_context(sample_tables(), october))[2].as_markdown()
    tables = sample_tables()
    tables["mart_nis2_reporting_deadlines"] = [
        {**row, "status": "open_ok"} if row["stage"] == "progress" else row
        for row in tables["mart_nis2_reporting_deadlines"]
    ]
    final = drafts_for(_context(tables, october))[2]
    assert "Art. 23(4)(e)" in final.as_markdown()


def test_a_late_declared_awareness_is_pointed_out(october):
    tables = sample_tables()
    tables["mart_nis2_incident_register"] = [
        {
            **tables["mart_nis2_incident_register"][0],
            "awareness_review_flag": True,
            "aware_at_derived": datetime(2026, 10, 3, 1, tzinfo=UTC),
        },
    ]
    drafts = drafts_for(_context(tables, october))
    assert all("2026-10-03 01:00 UTC" in d.as_markdown() for d in drafts)
    assert not any(
        "declared awareness" in d.as_markdown()
        for d in drafts_for(_context(sample_tables(), october))
    )
