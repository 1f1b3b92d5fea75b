"""The incident register (CSV, columns of docs/contracts.md) for the planted incidents.

Each incident is defined by the schedule, so its id and facts never change when ``end``
moves; ``end`` only decides which incidents exist yet and which fields are known.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from simulator.schedule import Schedule
from simulator.thresholds import early_warning_hours, notification_hours

COLUMNS = (
    "incident_id", "title", "description", "category", "threat_type", "severity", "status",
    "started_at", "detected_at", "aware_at", "contained_at", "resolved_at",
    "suspected_malicious", "cross_border", "affected_member_states", "affected_services",
    "affected_assets", "root_cause_key", "root_cause", "mitigation_measures",
    "estimated_direct_loss_eur", "direct_loss_potential_eur", "affected_users",
    "outage_start_at", "outage_end_at", "outage_minutes", "limited_availability_minutes",
    "slow_response_minutes", "avg_response_seconds", "dns_wrong_domains",
    "dns_managed_domains", "dns_compromise_cause", "cia_compromised",
    "unauthorised_access_successful", "severe_disruption_capable",
    "physical_access_compromised", "is_planned_maintenance", "significance_decision",
    "significance_assessed_at", "personal_data_breach", "gdpr_notified_at",
    "recipients_informed", "csirt_assistance_requested", "law_enforcement_involved", "tlp",
    "iocs", "linked_alert_ids", "early_warning_submitted_at", "early_warning_ref",
    "notification_submitted_at", "notification_ref", "intermediate_requested_at",
    "intermediate_due_at", "intermediate_submitted_at", "intermediate_ref",
    "final_report_submitted_at", "final_report_ref", "progress_report_submitted_at",
    "progress_report_ref", "updated_at",
)  # fmt: skip
# Facts about the entity the significance tests need (IR 2024/2690 Art. 3(1)(a), Art. 11).
ENTITY_PROFILE = {
    "legal_name": "Example Marketplace GmbH",
    "member_state": "DE",
    "entity_class": "important",
    "ir_entity_type": "online_marketplace",
    "ir_entity_article": "IR (EU) 2024/2690 Art. 11",
    "turnover_prev_fy_eur": 40_000_000,
    "eu_user_count": 1_200_000,
}


@dataclass
class Incident:
    key: str  # scenario key, stable
    title: str
    category: str
    severity: str
    detected: datetime
    aware: datetime
    contained: datetime
    resolved: datetime
    suspected_malicious: str
    root_cause_key: str
    root_cause: str
    loss_eur: int
    affected_users: int
    cross_border: bool = False
    outage_minutes: int = 0
    limited_minutes: int = 0
    cia_compromised: bool = False
    planned: bool = False
    linked_rules: tuple[str, ...] = ()
    stages: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    incident_id: str = ""
    linked_alert_ids: list[str] = field(default_factory=list)
    # what IR 2024/2690 Art. 3(1)(e) and the CSIRTs' forms ask beyond the ticket (``forms``
    # keys are register columns, e.g. threat_type, affected_services, iocs, tlp); the entity's
    # significance decision: significant / not_significant, with when it was made
    unauthorised_access: bool | None = False
    severe_disruption: bool | None = False
    personal_data: str = "no"
    decision: str = "not_significant"
    decided_after: timedelta = timedelta(hours=2)
    forms: dict[str, str] = field(default_factory=dict)


H = timedelta(hours=1)
M = timedelta(minutes=1)
D = timedelta(days=1)


def define_incidents(s: Schedule, facts: dict) -> list[Incident]:
    """Every incident of the planned period, numbered by detection time."""
    bf, spray = s.brute_force, s.password_spray
    aware = s.key_misuse_aware
    notification = aware + (notification_hours() + 24) * H  # one day late
    items = [
        Incident(
            "phishing_1",
            "Phishing e-mail reported by staff",
            "phishing",
            "low",
            s.phishing[0],
            s.phishing[0] + H,
            s.phishing[0] + 3 * H,
            s.phishing[0] + D,
            "yes",
            "RC-PHISHING",
            "Credential-phishing e-mail campaign",
            0,
            0,
        ),
        Incident(
            "brute_force",
            "Brute-force attempt against an administrator account",
            "unauthorised_access_attempt",
            "low",
            bf.start + 9 * M,
            bf.start + 40 * M,
            bf.start + 55 * M,
            bf.start + D,
            "yes",
            "RC-CREDENTIAL-ATTACK",
            "Internet-facing login targeted with guessed passwords",
            0,
            1,
            linked_rules=("100211",),
        ),
        Incident(
            "planned_maintenance",
            "Scheduled database upgrade",
            "availability",
            "low",
            s.planned_maintenance,
            s.planned_maintenance,
            s.planned_maintenance + 45 * M,
            s.planned_maintenance + 45 * M,
            "no",
            "RC-PLANNED-MAINTENANCE",
            "Announced maintenance window",
            0,
            0,
            outage_minutes=45,
            planned=True,
            decision="",
            forms={"affected_services": "Verification database"},
        ),
        Incident(
            "password_spray",
            "Password spray against SSO; one account signed in",
            "unauthorised_access",
            "medium",
            spray.start + 15 * M,
            spray.start + H,
            spray.start + 90 * M,
            spray.start + 2 * D,
            "yes",
            "RC-CREDENTIAL-ATTACK",
            "Internet-facing login targeted with guessed passwords",
            8_000,
            1,
            linked_rules=("100212", "100213"),
            unauthorised_access=True,
            forms={"threat_type": "intrusions", "affected_services": "SSO"},
        ),
        Incident(
            "bulk_read",
            "Bulk viewing of verification decisions by a Reader",
            "insider_misuse",
            "medium",
            s.bulk_read.end + 17 * H,
            s.bulk_read.end + 18 * H,
            s.bulk_read.end + 19 * H,
            s.bulk_read.end + 9 * D,
            "unknown",
            "RC-INSIDER-MISUSE",
            "Excessive Console read permissions",
            25_000,
            facts.get("bulk_read_sessions", 0),
            cia_compromised=True,
            personal_data="yes",
            stages={"gdpr_notified": (s.bulk_read.end + 60 * H, "")},
        ),
        Incident(
            "key_misuse",
            "Production API key used from an unknown network; verification decisions downloaded",
            "data_breach",
            "critical",
            aware - 30 * M,
            aware,
            aware + 15 * M,
            aware + 20 * D,
            "yes",
            "RC-SECRET-LEAK",
            "API key committed to a public repository",
            620_000,
            facts.get("key_misuse_decisions", 0),
            cross_border=True,
            cia_compromised=True,
            stages={
                "early_warning": (aware + (early_warning_hours() - 4) * H, "CSIRT-EW-0192"),
                "notification": (notification, "CSIRT-NT-0192"),
                "final_report": (notification + 25 * D, "CSIRT-FR-0192"),
                "gdpr_notified": (aware + 30 * H, ""),
            },
            unauthorised_access=True,
            severe_disruption=True,
            personal_data="yes",
            decision="significant",
            decided_after=timedelta(0),
            forms={
                "threat_type": "intrusions",
                "affected_services": "Identity verification API",
                "affected_assets": "didit-api;verification-store",
                "affected_member_states": "DE;AT",
                "mitigation_measures": "API key revoked and rotated; repository history purged; "
                "secret scanning enforced in CI",
                "recipients_informed": "yes",
                "csirt_assistance_requested": "no",
                "law_enforcement_involved": "yes",
                "tlp": "TLP:AMBER",
            },
        ),
        Incident(
            "log_gap",
            "Wazuh agent on the Keycloak host stopped sending",
            "logging_failure",
            "low",
            s.log_gap.end + 10 * M,
            s.log_gap.end + 10 * M,
            s.log_gap.end + 20 * M,
            s.log_gap.end + 2 * H,
            "no",
            "RC-AGENT-UPGRADE",
            "Agent not restarted after an OS update",
            0,
            0,
        ),
        Incident(
            "webhook_outage",
            "Webhook receiver outage: verification results delayed",
            "availability",
            "medium",
            s.webhook_outage.start + 25 * M,
            s.webhook_outage.start + 40 * M,
            s.webhook_outage.end,
            s.webhook_outage.end + 3 * H,
            "no",
            "RC-RECEIVER-DEPLOY",
            "Faulty deployment of the webhook receiver",
            45_000,
            300,
            limited_minutes=int((s.webhook_outage.end - s.webhook_outage.start) / M),
            linked_rules=("31123",),
        ),
        Incident(
            "phishing_2",
            "Phishing e-mail reported by staff",
            "phishing",
            "low",
            s.phishing[1],
            s.phishing[1] + H,
            s.phishing[1] + 2 * H,
            s.phishing[1] + D,
            "yes",
            "RC-PHISHING",
            "Credential-phishing e-mail campaign",
            0,
            0,
        ),
    ]
    for n, (t, loss, users, minutes) in enumerate(
        zip(
            s.recurring, (190_000, 170_000, 160_000), (900, 1_100, 800), (95, 120, 140), strict=True
        )
    ):
        items.append(
            Incident(
                f"recurring_{n + 1}",
                "Expired TLS certificate on the onboarding API",
                "availability",
                "medium",
                t,
                t + 20 * M,
                t + minutes * M,
                t + minutes * M + H,
                "no",
                "RC-TLS-CERT-EXPIRY",
                "Certificate renewal not automated",
                loss,
                users,
                limited_minutes=minutes,
            )
        )
    items.append(seller_takeover(s))
    items.sort(key=lambda i: (i.detected, i.key))
    for n, inc in enumerate(items, start=1):
        inc.incident_id = f"INC-{inc.detected.year}-{n:04d}"
    return items


def reported_month_start(s: Schedule) -> datetime:
    """The month the demo reports: the last full month before the world's planned end plus
    one day (the tests' second run), e.g. October 2026 for a world ending 31 October."""
    after = s.start + timedelta(days=s.days + 1)
    month = (after.replace(day=1) - timedelta(days=1)).replace(day=1)
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def seller_takeover(s: Schedule) -> Incident:
    """A significant incident inside the reported month, with every stage and form field:
    successful malicious access capable of severe disruption (IR Art. 3(1)(e)), integrity
    compromised by a suspectedly malicious action (Art. 11(c)), a personal data breach."""
    t = max(reported_month_start(s) + 11 * D + 7 * H + 40 * M, s.period_start + D)
    aware = t + 50 * M
    return Incident(
        "seller_takeover",
        "Seller accounts taken over by credential stuffing; payout details changed",
        "account_takeover",
        "high",
        t,
        aware,
        t + 6 * H,
        t + 4 * D,
        "yes",
        "RC-CREDENTIAL-STUFFING",
        "Seller passwords reused from other breaches; no second factor for seller accounts",
        85_000,
        2_400,
        cross_border=True,
        cia_compromised=True,
        unauthorised_access=True,
        severe_disruption=True,
        personal_data="yes",
        decision="significant",
        stages={
            "started": (t - 3 * H, ""),
            "early_warning": (aware + 20 * H, "CSIRT-EW-0247"),
            "gdpr_notified": (aware + 50 * H, ""),
            "notification": (aware + 60 * H, "CSIRT-NT-0247"),
            "intermediate_requested": (aware + 5 * D, ""),
            "intermediate_due": (aware + 8 * D, ""),
            "intermediate": (aware + 7 * D, "CSIRT-IR-0247"),
        },
        forms={
            "description": "Automated log-ins with leaked passwords succeeded on seller "
            "accounts; the attacker changed payout bank details on some of them.",
            "threat_type": "intrusions",
            "affected_services": "Seller portal;Seller payouts",
            "affected_assets": "seller-portal;payout-service",
            "affected_member_states": "DE;AT;NL",
            "mitigation_measures": "Sessions of affected sellers revoked and passwords reset; "
            "payout changes frozen pending review; second factor made mandatory for sellers; "
            "rate limits on the seller log-in",
            "direct_loss_potential_eur": "350000",
            "recipients_informed": "yes",
            "csirt_assistance_requested": "no",
            "law_enforcement_involved": "yes",
            "tlp": "TLP:AMBER",
            # documentation ranges (RFC 5737) and a reserved name (RFC 2606)
            "iocs": "ipv4:203.0.113.45;ipv4:198.51.100.23;domain:payout-verify.example.net;"
            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        },
    )


def _ts(ts: datetime | None, end: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ") if ts and ts <= end else ""


def _flag(value: bool | None) -> str:
    return "" if value is None else str(value).lower()


def _stage_at(inc: Incident, stage: str, end: datetime) -> str:
    return _ts(inc.stages.get(stage, (None, ""))[0], end)


def _form_fields(inc: Incident, end: datetime) -> dict[str, str]:
    """The columns beyond the ticket: IR Art. 3(1)(e) facts, the outage interval, the
    significance decision and when it was made, GDPR and the forms' fields."""
    outage_start = inc.detected if inc.outage_minutes else None
    decided = inc.aware + inc.decided_after if inc.decision else None
    row = {column: "" for column in COLUMNS}
    row.update({k: v for k, v in inc.forms.items() if k in COLUMNS})
    return row | {
        "started_at": _stage_at(inc, "started", end),
        "outage_start_at": _ts(outage_start, end),
        "outage_end_at": _ts(outage_start and outage_start + inc.outage_minutes * M, end),
        "unauthorised_access_successful": _flag(inc.unauthorised_access),
        "severe_disruption_capable": _flag(inc.severe_disruption),
        "physical_access_compromised": "false",
        "personal_data_breach": inc.personal_data,
        "gdpr_notified_at": _stage_at(inc, "gdpr_notified", end),
        "significance_decision": inc.decision if decided and decided <= end else "",
        "significance_assessed_at": _ts(decided, end),
        "intermediate_requested_at": _stage_at(inc, "intermediate_requested", end),
        "intermediate_due_at": _stage_at(inc, "intermediate_due", end),
    }


def _row(inc: Incident, end: datetime) -> dict[str, str]:
    status = "closed" if inc.resolved <= end else "contained" if inc.contained <= end else "open"
    known = [
        t
        for t in (
            inc.detected,
            inc.aware,
            inc.contained,
            inc.resolved,
            *(t for t, _ in inc.stages.values()),
        )
        if t <= end
    ]
    row = _form_fields(inc, end)
    row |= {
        "incident_id": inc.incident_id,
        "title": inc.title,
        "category": inc.category,
        "severity": inc.severity,
        "status": status,
        "detected_at": _ts(inc.detected, end),
        "aware_at": _ts(inc.aware, end),
        "contained_at": _ts(inc.contained, end),
        "resolved_at": _ts(inc.resolved, end),
        "suspected_malicious": inc.suspected_malicious,
        "cross_border": str(inc.cross_border).lower(),
        "root_cause_key": inc.root_cause_key,
        "root_cause": inc.root_cause,
        "estimated_direct_loss_eur": str(inc.loss_eur),
        "affected_users": str(inc.affected_users),
        "outage_minutes": str(inc.outage_minutes),
        "limited_availability_minutes": str(inc.limited_minutes),
        "cia_compromised": str(inc.cia_compromised).lower(),
        "is_planned_maintenance": str(inc.planned).lower(),
        "linked_alert_ids": ";".join(inc.linked_alert_ids),
        "updated_at": _ts(max(known), end),
    }
    stages = ("early_warning", "notification", "intermediate", "final_report", "progress_report")
    for stage in stages:
        at, ref = inc.stages.get(stage, (None, ""))
        row[f"{stage}_submitted_at"] = _ts(at, end)
        row[f"{stage}_ref"] = ref if at and at <= end else ""
    return row


def write_register(path: Path, incidents: list[Incident], end: datetime) -> int:
    """Write the incidents detected by ``end``; returns how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [_row(i, end) for i in incidents if i.detected <= end]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)
