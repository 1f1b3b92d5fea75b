"""MFA coverage from mart_nis2_mfa_coverage (M10; Dir. Art. 21(2)(j), Annex 11.3.2(a), 11.7).

Keycloak records no per-login factor: M10 judges each log-in by the factor enrolled at that
instant (the privileged-activity mart applies the same rule to admin log-ins only), so the MFA
figures of the pack come from M10, which sees every log-in.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from report import charts
from report.sections.base import Block, Metric, Table, no_data, table, total
from report.warehouse import MartData, Row

MFA = "mart_nis2_mfa_coverage"
GROUP = ("application", "principal_class", "internet_facing")
SUMMED = (
    "logins",
    "logins_with_mfa",
    "logins_phishing_resistant",
    "exceptions_applied",
    "logins_in_scope",
    "privileged_logins_without_mfa",
)
COLUMNS = (
    *GROUP,
    *SUMMED[:-1],
    "mfa_pct",
    "phishing_resistant_pct",
    "privileged_logins_without_mfa",
    "target_mfa_pct",
    "target_status",
    "exception_ids",
)


def share(part: Any, whole: Any) -> Decimal | None:
    """100 x part / whole rounded half-up to 0.1, as the marts' round(numeric, 1); None when
    there is nothing to divide by (every log-in excepted, or none at all)."""
    if part is None or not whole:
        return None
    exact = Decimal(100) * Decimal(str(part)) / Decimal(str(whole))
    return exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _sum(rows: list[Row], column: str) -> int:
    return sum(int(row.get(column) or 0) for row in rows)


def coverage(rows: list[Row] | None, data: MartData) -> dict[str, Decimal | int | None]:
    """Overall, privileged and phishing-resistant shares over the rows (M18's formulas)."""
    if rows is None or data.status not in {"ok", "empty"}:
        return dict.fromkeys(("mfa_pct", "mfa_pct_privileged", "phishing_resistant_pct"))
    privileged = [r for r in rows if r.get("principal_class") == "privileged"]
    scope = _sum(rows, "logins_in_scope")
    return {
        "mfa_pct": share(_sum(rows, "logins_with_mfa"), scope),
        "mfa_pct_privileged": share(
            _sum(privileged, "logins_with_mfa"), _sum(privileged, "logins_in_scope")
        ),
        "phishing_resistant_pct": share(_sum(rows, "logins_phishing_resistant"), scope),
    }


def _target_status(row: Row) -> str:
    """The mart's rule, applied to the period's totals of one group."""
    if not row["logins_in_scope"]:
        return "all_excepted"
    if row.get("target_mfa_pct") is None:
        return "no_target"
    reached = Decimal(100) * row["logins_with_mfa"] / row["logins_in_scope"]
    return "met" if reached >= Decimal(str(row["target_mfa_pct"])) else "below_target"


def per_group(rows: list[Row]) -> list[Row]:
    """The period's log-ins per application x principal class x exposure, worst first."""
    groups: dict[tuple[Any, ...], list[Row]] = {}
    for row in rows:
        groups.setdefault(tuple(row.get(c) for c in GROUP), []).append(row)
    result = []
    for key, members in groups.items():
        row: Row = dict(zip(GROUP, key, strict=True))
        row.update({c: _sum(members, c) for c in SUMMED})
        row["mfa_pct"] = share(row["logins_with_mfa"], row["logins_in_scope"])
        row["phishing_resistant_pct"] = share(
            row["logins_phishing_resistant"], row["logins_in_scope"]
        )
        row["target_mfa_pct"] = members[0].get("target_mfa_pct")
        row["target_status"] = _target_status(row)
        ids = {i for m in members for i in str(m.get("exception_ids") or "").split(";") if i}
        row["exception_ids"] = ";".join(sorted(ids)) or None
        result.append(row)
    return sorted(result, key=lambda r: (r["target_status"] == "met", -r["logins"]))


def _chart(groups: list[Row]) -> list[charts.Chart]:
    shown = [g for g in groups if g["mfa_pct"] is not None][:15]
    if not shown:
        return []
    labels = [
        f"{g['application']} / {g['principal_class']}"
        + (" / internet" if g["internet_facing"] else "")
        for g in shown
    ]
    return [
        charts.bars(
            "mfa-coverage",
            labels,
            [float(g["mfa_pct"]) for g in shown],
            "Share of log-ins with a second factor, per application and principal class "
            "(excepted log-ins left out).",
            "% of log-ins with MFA",
        )
    ]


def _table(data: MartData, groups: list[Row]) -> Table:
    return table(
        "mfa-coverage",
        "MFA coverage per application, principal class and exposure (period totals)",
        data,
        groups,
        COLUMNS,
        css=lambda column, value: f"status status-{value}" if column == "target_status" else "",
        empty_text="No successful log-in in this period.",
    )


def block(marts: dict[str, MartData]) -> Block:
    data = marts[MFA]
    now = coverage(data.rows, data)
    before = coverage(data.previous_rows, data) if data.previous_rows is not None else {}
    groups = per_group(data.rows)
    previous = data.previous_rows
    return Block(
        "mfa",
        "MFA coverage (Dir. Art. 21(2)(j); Annex 11.3.2(a), 11.7)",
        "Log-ins made by accounts with a second factor enrolled at that moment (Keycloak "
        "records no factor per log-in). Log-ins covered by a valid exception are counted "
        "apart and left out of the shares; targets from the seed mfa_policy_targets.",
        metrics=[
            Metric("mfa_pct", "Log-ins with MFA (%)", now["mfa_pct"], before.get("mfa_pct")),
            Metric(
                "mfa_pct_privileged",
                "Privileged log-ins with MFA (%)",
                now["mfa_pct_privileged"],
                before.get("mfa_pct_privileged"),
            ),
            Metric(
                "phishing_resistant_pct",
                "Log-ins with a phishing-resistant factor (%)",
                now["phishing_resistant_pct"],
                before.get("phishing_resistant_pct"),
            ),
            Metric(
                "privileged_logins_without_mfa",
                "Privileged log-ins without MFA",
                total(data, "privileged_logins_without_mfa"),
                total(data, "privileged_logins_without_mfa", previous)
                if previous is not None
                else None,
                bad_when_positive=True,
            ),
            Metric(
                "mfa_exceptions_applied",
                "Log-ins without MFA under a valid exception",
                total(data, "exceptions_applied"),
            ),
        ],
        charts=_chart(groups),
        tables=[_table(data, groups)],
        no_data=no_data(data),
    )
