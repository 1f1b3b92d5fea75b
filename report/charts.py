"""Charts as inline SVG, drawn by matplotlib (no JavaScript, no network, no browser).

matplotlib renders in-process to SVG that both the browser and WeasyPrint (the PDF) draw the
same way; a JavaScript chart library would leave the PDF blank. Text stays text
(`svg.fonttype = none`) so it is searchable, and a per-chart hash salt keeps element ids unique
when several charts share one HTML page and makes the output reproducible.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

STATUS_COLOURS = {
    "met": "#2e7d32",
    "pass": "#2e7d32",
    "breached": "#c62828",
    "fail": "#c62828",
    "open_at_risk": "#ef6c00",
    "open_ok": "#1565c0",
    "open": "#1565c0",
    "no_data": "#757575",
    "manual_required": "#8e24aa",
    "not_applicable_documented": "#bdbdbd",
    "not_required": "#bdbdbd",
}
_FALLBACK = "#546e7a"


@dataclass(frozen=True)
class Chart:
    """An inline SVG and the sentence a screen reader (and the PDF's text layer) gets."""

    key: str
    svg: str
    caption: str


def _style(key: str) -> dict[str, object]:
    return {
        "svg.fonttype": "none",
        "svg.hashsalt": f"nis2-{key}",
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


def _to_svg(fig: plt.Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(
        buffer,
        format="svg",
        bbox_inches="tight",
        metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
    )
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def bars(
    key: str, labels: Sequence[str], values: Sequence[float], caption: str, unit: str
) -> Chart:
    """Horizontal bars, one per label: counts by type, coverage per source."""
    with plt.rc_context(_style(key)):
        fig, ax = plt.subplots(figsize=(7, 0.35 * max(len(labels), 2) + 0.8))
        positions = range(len(labels))
        ax.barh(list(positions), list(values), color="#1565c0")
        ax.set_yticks(list(positions), list(labels))
        ax.invert_yaxis()
        ax.set_xlabel(unit)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        for pos, value in zip(positions, values, strict=True):
            ax.text(value, pos, f" {value:g}", va="center")
        return Chart(key, _to_svg(fig), caption)


def stacked_status(
    key: str, groups: Sequence[str], counts: dict[str, Sequence[int]], caption: str
) -> Chart:
    """One bar per group, split by status, coloured by what the status means."""
    with plt.rc_context(_style(key)):
        fig, ax = plt.subplots(figsize=(7, 0.32 * max(len(groups), 2) + 1.0))
        left = [0] * len(groups)
        for status, values in counts.items():
            ax.barh(
                list(groups),
                list(values),
                left=left,
                label=status.replace("_", " "),
                color=STATUS_COLOURS.get(status, _FALLBACK),
            )
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.invert_yaxis()
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("requirements")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        return Chart(key, _to_svg(fig), caption)


def daily_lines(
    key: str, days: Sequence[datetime], series: dict[str, Sequence[float]], caption: str
) -> Chart:
    """Daily totals over the period, one line per measure."""
    with plt.rc_context(_style(key)):
        fig, ax = plt.subplots(figsize=(7, 2.6))
        for name, values in series.items():
            ax.plot(list(days), list(values), label=name, linewidth=1.4)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
        ax.legend(frameon=False)
        ax.set_ylabel("per day")
        return Chart(key, _to_svg(fig), caption)


@dataclass(frozen=True)
class TimelineItem:
    label: str
    start: datetime
    end: datetime
    significant: bool
    marks: tuple[tuple[datetime, str, str], ...]  # (moment, status, legend text)


def timeline(key: str, items: Sequence[TimelineItem], caption: str) -> Chart:
    """Incidents as bars from awareness to closure, with Art. 23 deadlines and filings marked."""
    with plt.rc_context(_style(key)):
        fig, ax = plt.subplots(figsize=(7.5, 0.42 * max(len(items), 2) + 1.2))
        for row, item in enumerate(items):
            colour = "#c62828" if item.significant else "#90a4ae"
            width = max(mdates.date2num(item.end) - mdates.date2num(item.start), 0.04)
            ax.barh(row, width, left=mdates.date2num(item.start), color=colour, alpha=0.55)
            for moment, status, _ in item.marks:
                ax.plot(
                    mdates.date2num(moment),
                    row,
                    marker="v" if status == "due" else "o",
                    color=STATUS_COLOURS.get(status, "#212121"),
                    markersize=6,
                )
        ax.set_yticks(range(len(items)), [item.label for item in items])
        ax.invert_yaxis()
        ax.xaxis_date()
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
        handles = [
            plt.Line2D([], [], color="#c62828", lw=6, alpha=0.55, label="significant incident"),
            plt.Line2D([], [], color="#90a4ae", lw=6, alpha=0.55, label="other incident"),
            plt.Line2D([], [], color="#212121", marker="v", ls="", label="deadline (due)"),
            plt.Line2D([], [], color="#2e7d32", marker="o", ls="", label="filed on time"),
            plt.Line2D([], [], color="#c62828", marker="o", ls="", label="filed late / overdue"),
        ]
        ax.legend(
            handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False
        )
        return Chart(key, _to_svg(fig), caption)
