"""Notification drafts a CSIRT can file: every field the forms ask with its source, real
indicators (never a count), deadlines in UTC and the entity's time, a JSON twin valid against
the schema written from the forms' fields, drafts for incidents pending assessment and for
IR Art. 4 groups."""

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from report_samples import sample_tables

from report.pseudonyms import Pseudonymiser
from report.sections.base import PackContext
from report.sections.draft_fields import FIELDS
from report.sections.notifications import drafts_for
from report.warehouse import InMemorySource, load_marts

SCHEMA = json.loads(
    (
        Path(__file__).resolve().parents[2] / "report/schemas/nis2_notification_draft.schema.json"
    ).read_text()
)
# A profile as the seed holds it (fictitious values, no person, no address of a person)
PROFILE = {
    "entity_id": "simulated-org",
    "legal_name": "Example Marketplace GmbH",
    "member_state": "DE",
    "registration_id": "HRB 000000",
    "registered_address": "Beispielstrasse 1, 10115 Berlin",
    "sector": "Digital providers",
    "subsector": "Providers of online marketplaces",
    "competent_csirt": "BSI (CERT-Bund)",
    "contact_role": "Incident response lead",
    "contact_phone": "+49 30 0000000",
    "time_zone": "Europe/Berlin",
}


def _context(tables, period, profile=None):
    marts = load_marts(InMemorySource(tables), period, Pseudonymiser(b"k"))
    return PackContext(
        period,
        "Example Org",
        marts,
        False,
        datetime(2026, 11, 1, tzinfo=UTC),
        "test rows",
        True,
        profile=profile if profile is not None else dict(PROFILE),
    )


def _validator():
    return jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())


def test_every_json_twin_is_valid_against_the_forms_schema(october):
    drafts = drafts_for(_context(sample_tables(), october))
    assert drafts
    for draft in drafts:
        names = [name for name, _ in draft.files()]
        assert names == [draft.file_name, draft.json_file_name]
        _validator().validate(json.loads(draft.as_json()))


def test_the_schema_refuses_a_draft_without_a_required_field(october):
    draft = drafts_for(_context(sample_tables(), october))[0]
    twin = json.loads(draft.as_json())
    del twin["entity"]["competent_csirt"]
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate(twin)
    twin = json.loads(draft.as_json())
    twin["incident"]["threat_type"] = "hacking"  # not an ENISA RSIT class
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate(twin)


def test_each_form_field_is_listed_with_its_source(october):
    draft = drafts_for(_context(sample_tables(), october))[1]  # the notification
    by_key = {f.key: f for f in draft.form_fields}
    assert {spec.key for spec in FIELDS} <= set(by_key)
    assert all(f.source for f in draft.form_fields)
    assert by_key["entity.competent_csirt"].value == "BSI (CERT-Bund)"
    assert by_key["entity.competent_csirt"].source == "Dir. Arts. 10, 23(1)"
    assert by_key["incident.personal_data_breach"].source == "Reg. (EU) 2016/679 Art. 33(1)"
    # the sample register has no threat type: shown as missing, never dropped
    assert by_key["incident.threat_type"].missing
    assert "Threat type (ENISA RSIT): MISSING" in draft.as_markdown()


def test_the_entitys_own_form_lays_out_the_draft(october):
    draft = drafts_for(_context(sample_tables(), october))[0]
    assert draft.form.member_state == "DE"
    assert "Zuständige Stelle (BSI): BSI (CERT-Bund)" in draft.as_markdown()
    generic = drafts_for(_context(sample_tables(), october, {**PROFILE, "member_state": "MT"}))
    assert generic[0].form.member_state == "EU"


def test_indicators_are_real_values_never_a_count(october):
    notification = drafts_for(_context(sample_tables(), october))[1]
    iocs = {i.code: i.value for i in notification.items}["(6)"]
    assert "domain-name console-login.example.net" in iocs
    assert "file:sha256 9f86d081" in iocs
    assert "ipv4-addr pseudonym p_" in iocs
    assert "192.0.2.44" not in iocs
    assert "1790.1;1790.2" in iocs  # the alerts to resolve the address from when filing
    assert "linked SIEM alerts recorded" not in iocs
    twin = json.loads(notification.as_json())
    assert {i["type"] for i in twin["indicators"]} == {"domain-name", "file:sha256", "ipv4-addr"}


def test_deadlines_in_utc_and_the_entitys_time(october):
    notification = drafts_for(_context(sample_tables(), october))[1]
    text = notification.as_markdown()
    assert "- Due: 2026-10-06 10:00 UTC" in text
    assert "- Due (entity time): 2026-10-06 12:00 Europe/Berlin" in text  # CEST
    twin = json.loads(notification.as_json())
    assert twin["deadline"]["due_at_utc"] == "2026-10-06T10:00Z"
    assert twin["deadline"]["due_at_local"] == "2026-10-06 12:00 Europe/Berlin"


def test_an_unassessed_incident_is_drafted_as_potentially_significant(october):
    tables = sample_tables()
    tables["mart_nis2_significance_assessment"] = [
        {**row, "significance_status": "pending_assessment", "is_significant": False}
        if row["incident_id"] == "INC-2026-015"
        else row
        for row in tables["mart_nis2_significance_assessment"]
    ]
    drafts = [d for d in drafts_for(_context(tables, october)) if d.incident_id == "INC-2026-015"]
    assert [d.stage for d in drafts] == ["early_warning", "notification", "final"]
    assert all(d.potentially_significant for d in drafts)
    assert "POTENTIALLY SIGNIFICANT" in drafts[0].as_markdown()
    assert json.loads(drafts[0].as_json())["potentially_significant"] is True


def test_a_recurring_group_gets_drafts_and_an_intermediate_report_when_asked(october):
    tables = sample_tables()
    group = "ART4:RC-TLS:INC-2026-016"
    rows = [
        {
            "deadline_id": f"{group}:NIS2_ART23:{stage}",
            "incident_id": group,
            "reportable_type": "art4_group",
            "regime": "NIS2_ART23",
            "stage": stage,
            "anchor_at": datetime(2026, 10, 12, 8, tzinfo=UTC),
            "due_at": due,
            "status": status,
        }
        for stage, due, status in (
            ("early_warning", datetime(2026, 10, 13, 8, tzinfo=UTC), "breached"),
            ("notification", datetime(2026, 10, 15, 8, tzinfo=UTC), "breached"),
            ("intermediate", datetime(2026, 10, 20, 8, tzinfo=UTC), "open_ok"),
            ("final", datetime(2026, 11, 15, 8, tzinfo=UTC), "open_ok"),
            ("progress", datetime(2026, 11, 15, 8, tzinfo=UTC), "not_required"),
        )
    ]
    tables["mart_nis2_reporting_deadlines"] = tables["mart_nis2_reporting_deadlines"] + rows
    drafts = [d for d in drafts_for(_context(tables, october)) if d.incident_id == group]
    assert [d.stage for d in drafts] == ["early_warning", "notification", "intermediate", "final"]
    assert "IR 2024/2690 Art. 4" in drafts[0].as_markdown()
    assert drafts[2].legal_basis == "Art. 23(4)(c)"
    for draft in drafts:
        _validator().validate(json.loads(draft.as_json()))
