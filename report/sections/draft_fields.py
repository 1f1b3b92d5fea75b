"""What a CSIRT's notification form asks beyond Art. 23(4)'s content items, field by field,
each with its source (an article, or the national forms) and where the pipeline reads it.

The field set follows what the national forms and ENISA's guidance have in common (entity
identification, contact, start vs detection vs awareness, services, assets, Member States,
threat type, the GDPR flag, recipients informed, assistance, law enforcement, TLP,
indicators, mitigation). Labels can differ per Member State (FORMS); the fields do not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from report.formatting import display
from report.period import to_moment
from report.sections.incident_facts import pick
from report.warehouse import Row

FORMS_SOURCE = "CSIRT notification forms (BE CCB, NL NCSC, DE BSI) and ENISA guidance"
ALL_STAGES = frozenset({"early_warning", "notification", "intermediate", "progress", "final"})


@dataclass(frozen=True)
class FormTemplate:
    """The form a draft is laid out for: the entity's own Member State first."""

    member_state: str
    name: str
    labels: dict[str, str]


FORMS = {
    "DE": FormTemplate(
        "DE",
        "BSI Meldung nach BSIG § 32 (NIS2UmsuCG)",
        {
            "entity.legal_name": "Name der Einrichtung",
            "entity.competent_csirt": "Zuständige Stelle (BSI)",
            "incident.started_at": "Beginn des Vorfalls",
            "incident.detected_at": "Erkannt am",
            "incident.aware_at": "Kenntnis am",
        },
    ),
    "EU": FormTemplate("EU", "Generic NIS2 Art. 23 notification (ENISA guidance)", {}),
}


@dataclass(frozen=True)
class FieldSpec:
    key: str  # dotted key of the JSON twin, e.g. entity.legal_name
    label: str
    source: str  # the article or form that asks for it
    read: Callable[[Row, Row, Row], Any]  # (profile, incident, assessment) -> value
    stages: frozenset[str] = ALL_STAGES


def _p(column: str) -> Callable[[Row, Row, Row], Any]:
    return lambda profile, incident, assessment: pick(profile, column)


def _i(*columns: str) -> Callable[[Row, Row, Row], Any]:
    return lambda profile, incident, assessment: pick(incident, *columns)


def _a(*columns: str) -> Callable[[Row, Row, Row], Any]:
    return lambda profile, incident, assessment: pick(assessment, *columns)


NOT_EW = ALL_STAGES - {"early_warning"}
FIELDS = (
    FieldSpec("entity.legal_name", "Legal name", FORMS_SOURCE, _p("legal_name")),
    FieldSpec("entity.registration_id", "Registration number", FORMS_SOURCE, _p("registration_id")),
    FieldSpec("entity.address", "Registered address", FORMS_SOURCE, _p("registered_address")),
    FieldSpec(
        "entity.sector", "Sector (Dir. Annex I/II)", "Dir. Art. 3, Annexes I-II", _p("sector")
    ),
    FieldSpec(
        "entity.subsector",
        "Subsector / entity type",
        "Dir. Annexes I-II; IR Art. 1",
        _p("subsector"),
    ),
    FieldSpec(
        "entity.member_state",
        "Member State of establishment",
        "Dir. Art. 26(1)",
        _p("member_state"),
    ),
    FieldSpec(
        "entity.competent_csirt",
        "Competent CSIRT / authority",
        "Dir. Arts. 10, 23(1)",
        _p("competent_csirt"),
    ),
    FieldSpec("contact.role", "Contact (role)", FORMS_SOURCE, _p("contact_role")),
    FieldSpec("contact.phone", "Contact telephone", FORMS_SOURCE, _p("contact_phone")),
    FieldSpec("incident.tlp", "TLP marking", "FIRST TLP 2.0; " + FORMS_SOURCE, _i("tlp")),
    FieldSpec(
        "incident.significance_status",
        "Significance",
        "Dir. Art. 23(3); IR Arts. 3-14",
        _a("significance_status"),
    ),
    FieldSpec("incident.started_at", "Incident start", FORMS_SOURCE, _i("started_at")),
    FieldSpec(
        "incident.detected_at", "Detected", FORMS_SOURCE + "; IR Annex 3.5.4", _i("detected_at")
    ),
    FieldSpec(
        "incident.aware_at", "Became aware (clock start)", "Dir. Art. 23(4)(a)-(b)", _i("aware_at")
    ),
    FieldSpec(
        "incident.threat_type",
        "Threat type (ENISA RSIT)",
        "Dir. Art. 23(4)(d)(ii); ENISA Reference Incident Classification Taxonomy",
        _i("threat_type"),
    ),
    FieldSpec(
        "incident.affected_services",
        "Affected services",
        "Dir. Art. 23(1); " + FORMS_SOURCE,
        _i("affected_services"),
    ),
    FieldSpec(
        "incident.affected_assets", "Affected assets", FORMS_SOURCE, _i("affected_assets"), NOT_EW
    ),
    FieldSpec(
        "incident.affected_member_states",
        "Affected Member States",
        "Dir. Art. 23(1), 23(4)(a)(ii)",
        _i("affected_member_states"),
    ),
    FieldSpec(
        "incident.personal_data_breach",
        "Personal data breach (GDPR Art. 33, own 72 h clock)",
        "Reg. (EU) 2016/679 Art. 33(1)",
        _i("personal_data_breach"),
    ),
    FieldSpec(
        "incident.recipients_informed",
        "Service recipients informed",
        "Dir. Art. 23(1) second subpara., 23(2)",
        _i("recipients_informed"),
    ),
    FieldSpec(
        "incident.csirt_assistance_requested",
        "CSIRT assistance requested",
        "Dir. Art. 23(5)",
        _i("csirt_assistance_requested"),
    ),
    FieldSpec(
        "incident.law_enforcement_involved",
        "Law enforcement involved",
        "Dir. Art. 23(5) second subpara.",
        _i("law_enforcement_involved"),
    ),
    FieldSpec(
        "incident.mitigation_measures",
        "Mitigation measures",
        "Dir. Art. 23(4)(d)(iii)",
        _i("mitigation_measures"),
        NOT_EW,
    ),
)


def local_time(value: Any, zone: str | None) -> str | None:
    """A UTC instant in the entity's time zone, with the zone named."""
    moment = to_moment(value) if not isinstance(value, datetime) else value
    if moment is None:
        return None
    name = zone or "UTC"
    return moment.astimezone(ZoneInfo(name)).strftime("%Y-%m-%d %H:%M ") + name


def field_value(value: Any) -> str | None:
    return None if value in (None, "", [], "unknown") else display(value)
