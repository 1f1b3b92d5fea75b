"""Art. 23 notification drafts for each significant incident, filled from the marts.

Every content item Art. 23(4) asks for is listed; an item the data cannot fill is flagged
"MISSING" so the drafter knows what to add before filing, instead of it quietly vanishing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from report.formatting import display, raw
from report.sections.base import PackContext, Section
from report.sections.incident_facts import STAGE_BASIS, STAGE_TITLES, pick, significant_incidents
from report.warehouse import Row

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
class Draft:
    incident_id: str
    stage: str
    header: list[tuple[str, str]]
    items: list[ContentItem]
    deadline: Row | None
    notes: list[str] = field(default_factory=list)

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
    def file_name(self) -> str:
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in self.incident_id)
        return f"{safe}_{self.stage}.md"

    def deadline_facts(self) -> list[tuple[str, str]]:
        row = self.deadline
        return [
            ("Due", display(pick(row, "due_at"))),
            ("Submitted", display(pick(row, "submitted_at"))),
            ("Submission reference", display(pick(row, "submission_ref"))),
            ("Status", self.status),
        ]

    def as_markdown(self) -> str:
        """The draft as a plain document to paste into the authority's portal."""
        lines = [f"# {self.title} ({self.legal_basis}): incident {self.incident_id}", ""]
        lines += [f"- {name}: {value}" for name, value in self.header + self.deadline_facts()]
        lines += ["", "## Content required by Directive (EU) 2022/2555, " + self.legal_basis, ""]
        for item in self.items:
            text = item.value if item.value is not None else MISSING_TEXT
            lines.append(f"- {item.code} {item.requirement}: {text}  (source: {item.source})")
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


def _iocs(incident: Row) -> str | None:
    listed = pick(incident, "iocs", "indicators_of_compromise", "linked_alert_ids")
    if listed is not None:
        return display(listed)
    count = pick(incident, "iocs_count", "linked_alert_count")
    if count:
        return f"{display(count)} indicators / linked SIEM alerts recorded in the register"
    return None


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


def _description(incident: Row, assessment: Row | None) -> str | None:
    text = pick(incident, "description", "title")
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
                "incident register: iocs / linked alerts",
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


def drafts_for(context: PackContext) -> list[Draft]:
    """Early warning, notification and final report drafts for every significant incident."""
    drafts = []
    for incident, assessment, stages in significant_incidents(context.marts):
        incident_id = raw(incident.get("incident_id"))
        header = [
            ("Entity", context.entity),
            ("Incident reference", incident_id),
            ("Title", display(pick(incident, "title"))),
            ("Category", display(pick(incident, "category"))),
            ("Detected at", display(pick(incident, "detected_at"))),
            ("Became aware at", display(pick(incident, "aware_at"))),
        ]
        for stage in ("early_warning", "notification", "final"):
            draft = Draft(
                incident_id, stage, header, _items(stage, incident, assessment), stages.get(stage)
            )
            if incident.get("awareness_review_flag"):
                draft.notes.append(
                    "The declared awareness time is later than the one derived from the first "
                    f"linked alert ({display(incident.get('aware_at_derived'))}) by more than "
                    "the review threshold: confirm when the entity became aware before filing "
                    "(the deadlines run from awareness)."
                )
            progress = stages.get("progress")
            if stage == "final" and progress and progress.get("status") != "not_required":
                draft.notes.append(
                    "The incident was still being handled when the final report fell due: a "
                    "progress report is due then, and the final report one month after handling "
                    "ends (Art. 23(4)(e)); progress report status: "
                    + display(pick(progress, "status"))
                )
            if draft.deadline is None:
                draft.notes.append(
                    "No deadline row for this stage in mart_nis2_reporting_deadlines."
                )
            drafts.append(draft)
    return drafts


def build(context: PackContext) -> Section:
    drafts = drafts_for(context)
    intro = (
        "Drafts of the notifications to the CSIRT or competent authority for each significant "
        "incident of the period, filled from the incident register, the significance "
        "assessment and the deadline mart. Items marked MISSING must be completed by hand. "
        "Each draft is also in the pack's drafts/ folder."
    )
    if not drafts:
        reason = context.marts["mart_nis2_incident_register"].unavailable_reason
        intro += " " + (reason or "No significant incident in this period: nothing to notify.")
    return Section(
        "notifications",
        "Notification drafts",
        "Dir. (EU) 2022/2555 Art. 23(4)(a), (b), (d)",
        intro,
        template="notifications.html.j2",
        extra={"drafts": drafts},
    )
