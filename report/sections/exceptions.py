"""The exceptions register (M16; IR 2024/2690 Art. 2(2) second subparagraph, Annex 2.2.1,
6.6.2): every documented exception and non-applicability decision with its expiry, so an
auditor sees what a 'not applicable' or an excepted log-in rests on, and what lapses soon."""

from __future__ import annotations

from report.sections.base import Block, Metric, count_where, no_data, row_count, table
from report.warehouse import MartData

EXCEPTIONS = "mart_nis2_exceptions_register"
STATUS_ORDER = ("invalid", "expired", "expiring", "not_yet_approved", "valid")
COLUMNS = (
    "exception_id",
    "annex_ref",
    "scope_type",
    "scope_value",
    "status",
    "approved_by",
    "approved_at",
    "expires_at",
    "days_to_expiry",
    "expiring_within_30_days",
    "reason",
    "compensating_controls",
    "invalid_fields",
)  # expired and linked_metric are in the export; status already says expired


def _css(column: str, value: object) -> str:
    if column == "status" and isinstance(value, str):
        return f"status status-{value}"
    if column in {"expired", "expiring_within_30_days"} and value is True:
        return "bad"
    return ""


def approver_note(internal: bool) -> str:
    """How an auditor verifies who approved (decision: report/README.md, 'Approvers')."""
    if internal:
        return (
            "Approved by: the approving role, or the person's name where the register names "
            "one (internal version). This is the compliance officer's copy an auditor checks "
            "the public pack's approvers against, row by exception id."
        )
    return (
        "Approved by: the approving role in clear when it is a declared approving role "
        "(report/approvers.py); any other value is treated as a person and shown as its "
        "pseudonym (p_...). To verify an approval, the auditor asks the compliance officer for "
        "the internal pack of the same period (nis2-report render --internal-names), whose "
        "register shows the same exception id with the approver in clear, and for the signed "
        "approval record."
    )


def block(marts: dict[str, MartData], internal: bool = False) -> Block:
    data = marts[EXCEPTIONS]
    order = {status: i for i, status in enumerate(STATUS_ORDER)}
    rows = sorted(
        data.rows,
        key=lambda r: (order.get(str(r.get("status")), len(order)), str(r.get("exception_id"))),
    )
    return Block(
        "exceptions",
        "Exceptions register (IR 2024/2690 Art. 2(2); Annex 2.2.1, 6.6.2)",
        "Documented exceptions and non-applicability decisions as at generation time, with "
        "their expiry: an expired exception exempts nothing; one expiring within the warning "
        "window (seed governance_policy) needs renewal or closure. " + approver_note(internal),
        metrics=[
            Metric("exceptions_total", "Exceptions registered", row_count(data.rows, data)),
            Metric("exceptions_in_force", "In force", count_where(data, "is_valid", True)),
            Metric(
                "exceptions_expiring_30d",
                "Expiring within the warning window",
                count_where(data, "expiring_within_30_days", True),
                bad_when_positive=True,
            ),
            Metric("exceptions_expired", "Expired", count_where(data, "expired", True)),
            Metric(
                "exceptions_invalid",
                "Invalid register rows",
                count_where(data, "status", "invalid"),
                bad_when_positive=True,
            ),
        ],
        tables=[
            table(
                "exceptions",
                "Exceptions and non-applicability decisions",
                data,
                rows,
                COLUMNS,
                limit=max(len(rows), 1),
                css=_css,
                empty_text="No exception is registered.",
            )
        ],
        no_data=no_data(data),
    )
