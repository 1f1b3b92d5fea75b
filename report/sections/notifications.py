"""Art. 23 notification drafts for each significant (or potentially significant) incident and
each IR Art. 4 group, filled from the marts and the entity profile.

Every content item Art. 23(4) asks for is listed, and every field the CSIRTs' forms ask
(report/sections/draft_fields.py, each with its source); an item the data cannot fill is
flagged "MISSING" so the drafter knows what to add before filing, instead of it quietly
vanishing. Each draft has a machine-readable JSON twin (report/schemas/
nis2_notification_draft.schema.json). Deadlines are given in UTC and the entity's time zone.
Addresses among the indicators stay pseudonyms in the pack (the evidence pack names no
address); the draft names the SIEM alerts to resolve them from when filing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from report.formatting import display, raw
from report.sections.base import PackContext, Section
from report.sections.draft_fields import FIELDS, FORMS, FormTemplate, field_value, local_time
from report.sections.incident_facts import (
    STAGE_BASIS,
    STAGE_TITLES,
    latest_assessment,
    pick,
    significant_incidents,
    stages_by_incident,
)
from report.warehouse import Row

SCHEMA_ID = "nis2_notification_draft.schema.json"
SCHEMA_VERSION = "1.0"

MISSING_TEXT = "MISSING: not in the data; complete before filing"


@dataclass
class ContentItem:
    code: str
    requirement: str
    value: str | None
    source: str

    @property
    def missing(self) -> bool:
        return self.value is None


@dataclass
class FormField:
    key: str
    label: str
    value: str | None
    source: str

    @property
    def missing(self) -> bool:
        return self.value is None


@dataclass
class Draft:
    incident_id: str
    stage: str
    header: list[tuple[str, str]]
    items: list[ContentItem]
    deadline: Row | None
    notes: list[str] = field(default_factory=list)
    form_fields: list[FormField] = field(default_factory=list)
    indicators: list[dict] = field(default_factory=list)
    form: FormTemplate = FORMS["EU"]
    time_zone: str = "UTC"
    potentially_significant: bool = False

    @property
    def title(self) -> str:
        return STAGE_TITLES[self.stage]

    @property
    def legal_basis(self) -> str:
        return STAGE_BASIS[self.stage]

    @property
    def status(self) -> str:
        return str(pick(self.deadline, "status") or "no deadline row")

    @property
    def missing_count(self) -> int:
        return sum(item.missing for item in self.items)

    @property
    def form_missing_count(self) -> int:
        return sum(f.missing for f in self.form_fields)

    @property
    def file_name(self) -> str:
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in self.incident_id)
        return f"{safe}_{self.stage}.md"

    @property
    def json_file_name(self) -> str:
        return self.file_name.removesuffix(".md") + ".json"

    def files(self) -> list[tuple[str, str]]:
        """The draft as a document and as its JSON twin: (file name, text)."""
        return [(self.file_name, self.as_markdown()), (self.json_file_name, self.as_json())]

    def due_local(self) -> str | None:
        return local_time(pick(self.deadline, "due_at"), self.time_zone)

    def deadline_facts(self) -> list[tuple[str, str]]:
        row = self.deadline
        return [
            ("Due", display(pick(row, "due_at"))),
            ("Due (entity time)", display(self.due_local())),
            ("Submitted", display(pick(row, "submitted_at"))),
            ("Submission reference", display(pick(row, "submission_ref"))),
            ("Status", self.status),
        ]

    def as_dict(self) -> dict[str, Any]:
        """The JSON twin (schema report/schemas/nis2_notification_draft.schema.json)."""
        groups: dict[str, dict[str, str | None]] = {"entity": {}, "contact": {}, "incident": {}}
        for f in self.form_fields:
            group, name = f.key.split(".", 1)
            groups[group][name] = f.value
        groups["incident"] |= {"reference": self.incident_id, "title": dict(self.header)["Title"]}
        row = self.deadline
        return {
            "schema": SCHEMA_ID,
            "schema_version": SCHEMA_VERSION,
            "stage": self.stage,
            "legal_basis": f"Directive (EU) 2022/2555 {self.legal_basis}",
            "form": {"member_state": self.form.member_state, "name": self.form.name},
            "potentially_significant": self.potentially_significant,
            **groups,
            "deadline": {
                "due_at_utc": _iso(pick(row, "due_at")),
                "due_at_local": self.due_local(),
                "time_zone": self.time_zone,
                "status": self.status,
                "submitted_at_utc": _iso(pick(row, "submitted_at")),
                "submission_ref": pick(row, "submission_ref"),
            },
            "content": [
                {
                    "code": i.code,
                    "requirement": i.requirement,
                    "value": i.value,
                    "source": i.source,
                    "missing": i.missing,
                }
                for i in self.items
            ],
            "fields": [
                {
                    "key": f.key,
                    "label": f.label,
                    "value": f.value,
                    "source": f.source,
                    "missing": f.missing,
                }
                for f in self.form_fields
            ],
            "indicators": self.indicators,
            "notes": self.notes,
        }

    def as_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False, default=str) + "\n"

    def as_markdown(self) -> str:
        """The draft as a plain document to paste into the authority's portal."""
        lines = [f"# {self.title} ({self.legal_basis}): incident {self.incident_id}", ""]
        lines += [f"- {name}: {value}" for name, value in self.header + self.deadline_facts()]
        lines += ["", f"Form: {self.form.name}"]
        if self.potentially_significant:
            lines += ["", "POTENTIALLY SIGNIFICANT: assessment pending; the clock runs."]
        lines += ["", "## Content required by Directive (EU) 2022/2555, " + self.legal_basis, ""]
        for item in self.items:
            text = item.value if item.value is not None else MISSING_TEXT
            lines.append(f"- {item.code} {item.requirement}: {text}  (source: {item.source})")
        lines += ["", "## Fields the CSIRT's form asks", ""]
        for f in self.form_fields:
            label = self.form.labels.get(f.key, f.label)
            text = f.value if f.value is not None else MISSING_TEXT
            lines.append(f"- {label}: {text}  (source: {f.source})")
        lines += [""] + [f"Note: {note}" for note in self.notes]
        return "\n".join(lines).rstrip() + "\n"


def _fact(row: Row | None, *columns: str) -> str | None:
    value = pick(row, *columns)
    return None if value is None else display(value)


def _impact(incident: Row, assessment: Row | None) -> str | None:
    parts = []
    for label, columns in (
        ("affected users", ("affected_eu_users", "affected_users")),
        ("full outage (min)", ("unavail_minutes", "outage_minutes")),
        ("limited availability (min)", ("limited_avail_minutes", "limited_availability_minutes")),
        ("direct loss estimate (EUR)", ("direct_loss_eur_estimate", "estimated_direct_loss_eur")),
        ("confidentiality/integrity/availability compromised", ("cia_compromised",)),
    ):
        value = pick(assessment, *columns)
        value = pick(incident, *columns) if value is None else value
        if value is not None:
            parts.append(f"{label}: {display(value)}")
    return "; ".join(parts) or None


def _criteria(assessment: Row | None) -> str | None:
    criteria = pick(assessment, "criteria_met")
    explanation = pick(assessment, "explanation")
    if criteria is None and explanation is None:
        return None
    return "; ".join(display(v) for v in (criteria, explanation) if v is not None)


def _iso(value: Any) -> str | None:
    text = display(value) if value is not None else None
    return None if text is None else text.replace(" UTC", "Z").replace(" ", "T")


def indicators(incident: Row) -> list[dict]:
    """Typed indicators from the register and the linked SIEM alerts (mart column iocs);
    an address is a pseudonym (value_key) with the alerts to resolve it from."""
    listed = incident.get("iocs")
    if isinstance(listed, str):
        try:
            listed = json.loads(listed)
        except ValueError:
            listed = None
    if not isinstance(listed, list):
        return []
    return [
        {key: entry.get(key) for key in ("type", "value", "value_key", "sources", "alert_ids")}
        for entry in listed
        if isinstance(entry, dict) and entry.get("type")
    ]


def _iocs(incident: Row) -> str | None:
    """Real indicators, never a count: domains, URLs and hashes as they are, addresses as
    pseudonyms to resolve from the named SIEM alerts before filing."""
    parts = []
    for entry in indicators(incident):
        if entry.get("value"):
            parts.append(f"{entry['type']} {entry['value']}")
        else:
            where = (
                f" (resolve from SIEM alerts {entry['alert_ids']})"
                if entry.get("alert_ids")
                else ""
            )
            parts.append(f"{entry['type']} pseudonym {entry.get('value_key')}{where}")
    return "; ".join(parts) or None


def _mitigation(incident: Row) -> str | None:
    text = pick(incident, "mitigation_measures", "mitigation", "remediation")
    if text is not None:
        return display(text)
    steps = [
        f"{name} {display(value)}"
        for name, column in (
            ("contained at", "contained_at"),
            ("eradicated at", "eradicated_at"),
            ("recovered at", "recovered_at"),
            ("resolved at", "resolved_at"),
        )
        if (value := incident.get(column)) is not None
    ]
    return "; ".join(steps) + " (timeline only: describe the measures)" if steps else None


def _progress(incident: Row) -> str | None:
    parts = [f"status {display(v)}"] if (v := pick(incident, "status")) is not None else []
    if mitigation := _mitigation(incident):
        parts.append(mitigation)
    return "; ".join(parts) or None


def _description(incident: Row, assessment: Row | None) -> str | None:
    text = pick(incident, "description", "title")
    if pick(incident, "description") and pick(incident, "title"):
        text = f"{display(incident['title'])}: {display(incident['description'])}"
    if text is None:
        return None
    extra = [f"severity {display(s)}"] if (s := pick(incident, "severity")) is not None else []
    if impact := _impact(incident, assessment):
        extra.append(impact)
    return display(text) + (f" ({'; '.join(extra)})" if extra else "")


def _items(stage: str, incident: Row, assessment: Row | None) -> list[ContentItem]:
    malicious = ContentItem(
        "(i)",
        "Suspected to be caused by unlawful or malicious acts",
        _fact(incident, "suspected_malicious"),
        "incident register: suspected_malicious",
    )
    cross_border = ContentItem(
        "(ii)",
        "Could have a cross-border impact",
        _fact(incident, "cross_border_possible", "cross_border"),
        "incident register: cross_border_possible",
    )
    if stage == "early_warning":
        return [malicious, cross_border]
    if stage == "notification":
        return [
            ContentItem(
                "(1)",
                "Update of early warning: " + malicious.requirement.lower(),
                malicious.value,
                malicious.source,
            ),
            ContentItem(
                "(2)",
                "Update of early warning: " + cross_border.requirement.lower(),
                cross_border.value,
                cross_border.source,
            ),
            ContentItem(
                "(3)",
                "Initial assessment: severity",
                _fact(incident, "severity"),
                "incident register: severity",
            ),
            ContentItem(
                "(4)",
                "Initial assessment: impact",
                _impact(incident, assessment),
                "significance assessment / incident register: impact columns",
            ),
            ContentItem(
                "(5)",
                "Significance criteria met (IR 2024/2690 Arts. 3-14)",
                _criteria(assessment),
                "significance assessment: criteria_met",
            ),
            ContentItem(
                "(6)",
                "Indicators of compromise, where available",
                _iocs(incident),
                "incident register iocs; linked SIEM alerts (int_incident_iocs)",
            ),
        ]
    if stage in ("intermediate", "progress"):
        return [
            ContentItem(
                "(1)",
                "Relevant status updates"
                if stage == "intermediate"
                else "Progress of the incident",
                _progress(incident),
                "incident register: status, containment timeline, mitigation_measures",
            ),
            ContentItem(
                "(2)",
                "Indicators of compromise, where available",
                _iocs(incident),
                "incident register iocs; linked SIEM alerts",
            ),
        ]
    return [
        ContentItem(
            "(i)",
            "Detailed description, including severity and impact",
            _description(incident, assessment),
            "incident register: title, severity",
        ),
        ContentItem(
            "(ii)",
            "Type of threat or root cause likely to have triggered it",
            _fact(incident, "root_cause", "threat_type", "root_cause_key", "category"),
            "incident register: root_cause",
        ),
        ContentItem(
            "(iii)",
            "Applied and ongoing mitigation measures",
            _mitigation(incident),
            "incident register: mitigation / containment timeline",
        ),
        ContentItem(
            "(iv)", "Cross-border impact, where applicable", cross_border.value, cross_border.source
        ),
    ]


def _form_fields(
    stage: str, profile: Row, incident: Row, assessment: Row | None
) -> list[FormField]:
    fields = [
        FormField(
            spec.key,
            spec.label,
            field_value(spec.read(profile, incident, assessment or {})),
            spec.source,
        )
        for spec in FIELDS
        if stage in spec.stages
    ]
    if (criteria := _criteria(assessment)) is not None:
        fields.append(
            FormField(
                "incident.criteria",
                "Significance criteria (value vs threshold)",
                criteria,
                "IR 2024/2690 Arts. 3-14",
            )
        )
    return fields


def _notes(stage: str, incident: Row, stages: dict[str, Row]) -> list[str]:
    notes = []
    if incident.get("awareness_review_flag"):
        notes.append(
            "The declared awareness time is later than the one derived from the first "
            f"linked alert ({display(incident.get('aware_at_derived'))}) by more than "
            "the review threshold: confirm when the entity became aware before filing "
            "(the deadlines run from awareness)."
        )
    progress = stages.get("progress")
    if stage == "final" and progress and progress.get("status") != "not_required":
        notes.append(
            "The incident was still being handled when the final report fell due: a "
            "progress report is due then, and the final report one month after handling "
            "ends (Art. 23(4)(e)); progress report status: " + display(pick(progress, "status"))
        )
    if stages.get(stage) is None:
        notes.append("No deadline row for this stage in mart_nis2_reporting_deadlines.")
    return notes


def _reportables(context: PackContext) -> list[tuple[Row, Row | None, dict[str, Row]]]:
    """Significant incidents, incidents pending assessment (potentially significant) and
    IR Art. 4 groups (one significant incident each, from the deadline mart)."""
    chosen = significant_incidents(context.marts)
    seen = {raw(incident.get("incident_id")) for incident, _, _ in chosen}
    assessments = latest_assessment(context.marts)
    stages = stages_by_incident(context.marts)
    for incident in context.marts["mart_nis2_incident_register"].rows:
        key = incident.get("incident_id")
        assessment = assessments.get(key)
        status = pick(assessment, "significance_status") or incident.get("significance_status")
        if status == "pending_assessment" and raw(key) not in seen:
            chosen.append((incident, assessment, stages.get(key, {})))
            seen.add(raw(key))
    for key, by_stage in stages.items():
        early = by_stage.get("early_warning") or {}
        if early.get("reportable_type") == "art4_group" and raw(key) not in seen:
            group = {
                "incident_id": key,
                "aware_at": early.get("anchor_at"),
                "title": f"Recurring incidents collectively one significant incident "
                f"(IR 2024/2690 Art. 4): {key}",
            }
            chosen.append((group, {"significance_status": "significant"}, by_stage))
    return chosen


def _applies(stage: str, stages: dict[str, Row]) -> bool:
    if stage in ("early_warning", "notification", "final"):
        return True
    row = stages.get(stage)
    return bool(row) and row.get("status") != "not_required"


def drafts_for(context: PackContext) -> list[Draft]:
    """Early warning, notification, intermediate (when asked), progress (when due) and final
    report drafts for every significant or potentially significant incident and Art. 4 group."""
    profile = context.profile or {}
    form = FORMS.get(str(profile.get("member_state") or ""), FORMS["EU"])
    drafts = []
    for incident, assessment, stages in _reportables(context):
        incident_id = raw(incident.get("incident_id"))
        header = [
            ("Entity", context.entity),
            ("Incident reference", incident_id),
            ("Title", display(pick(incident, "title"))),
            ("Category", display(pick(incident, "category"))),
            ("Detected at", display(pick(incident, "detected_at"))),
            ("Became aware at", display(pick(incident, "aware_at"))),
        ]
        pending = pick(assessment, "significance_status") == "pending_assessment"
        for stage in ("early_warning", "notification", "intermediate", "progress", "final"):
            if not _applies(stage, stages):
                continue
            drafts.append(
                Draft(
                    incident_id,
                    stage,
                    header,
                    _items(stage, incident, assessment),
                    stages.get(stage),
                    _notes(stage, incident, stages),
                    _form_fields(stage, profile, incident, assessment),
                    indicators(incident),
                    form,
                    str(profile.get("time_zone") or "UTC"),
                    pending,
                )
            )
    return drafts


def build(context: PackContext) -> Section:
    drafts = drafts_for(context)
    intro = (
        "Drafts of the notifications to the CSIRT or competent authority for each significant "
        "incident of the period, filled from the incident register, the significance "
        "assessment, the deadline mart and the entity profile, laid out for the form of the "
        "entity's Member State. Items marked MISSING must be completed by hand. Each draft is "
        "also in the pack's drafts/ folder with a JSON twin (schema "
        "report/schemas/nis2_notification_draft.schema.json). Incidents whose significance "
        "is not yet assessed are drafted as potentially significant: their clocks run."
    )
    if not drafts:
        reason = context.marts["mart_nis2_incident_register"].unavailable_reason
        intro += " " + (reason or "No significant incident in this period: nothing to notify.")
    return Section(
        "notifications",
        "Notification drafts",
        "Dir. (EU) 2022/2555 Art. 23(4)(a)-(e); IR 2024/2690 Arts. 3-14",
        intro,
        template="notifications.html.j2",
        extra={"drafts": drafts},
    )
