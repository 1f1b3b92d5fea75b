"""Appendix: how each figure was obtained, the thresholds with their legal sources, and how
fresh the data is, so an auditor can retrace every number."""

from __future__ import annotations

from report.formatting import display, raw
from report.marts import MARTS
from report.sections.base import Block, Cell, PackContext, Section, Table, table

THRESHOLDS = "nis2_thresholds"


def _methods(context: PackContext) -> Table:
    rows = []
    for spec in MARTS:
        data = context.marts[spec.name]
        state = data.status if data.status != "ok" else f"{len(data.rows)} rows"
        rows.append(
            [
                Cell(spec.name, spec.name),
                Cell(spec.title, spec.title),
                Cell(data.cut_note or data.problem or "—", data.cut_note),
                Cell(state, raw(len(data.rows)), "" if data.status == "ok" else "status-no_data"),
                Cell(display(data.latest_at), raw(data.latest_at)),
                Cell(str(len(data.undated)), str(len(data.undated)), "bad" if data.undated else ""),
            ]
        )
    return Table(
        "methods",
        "Marts used, how each was cut to the period, and its newest evidence",
        ["Mart", "Topic", "Rows chosen", "Rows in pack", "Newest timestamp", "Undated rows"],
        ["mart", "title", "cut", "rows", "latest_at", "undated"],
        rows,
        len(rows),
    )


def _freshness(context: PackContext) -> Table:
    rows = [
        [
            Cell(str(r["source"]), str(r["source"])),
            Cell(display(r.get("loaded_at")), raw(r.get("loaded_at"))),
            Cell(display(r.get("rows")), raw(r.get("rows"))),
        ]
        for r in context.source_freshness
    ]
    return Table(
        "freshness",
        "Raw sources: last load (target-postgres _sdc_batched_at)",
        ["Source table", "Last loaded", "Rows"],
        ["source", "loaded_at", "rows"],
        rows,
        len(rows),
        empty_text="Load times of raw sources are not available from "
        f"{context.source_description}.",
    )


def build(context: PackContext) -> Section:
    thresholds = context.marts[THRESHOLDS]
    pseudonyms = (
        "Internal version: real names and IP addresses are shown. Restrict its distribution."
        if context.internal_names
        else "People and IP addresses are replaced by keyed pseudonyms (HMAC-SHA256), "
        + (
            "with the managed key NIS2_PSEUDONYM_KEY, so they are stable across packs."
            if context.pseudonym_key_managed
            else "with a one-off key (NIS2_PSEUDONYM_KEY not set): pseudonyms differ between packs."
        )
    )
    return Section(
        "appendix",
        "Appendix: methods, thresholds and data freshness",
        "IR 2024/2690 Annex 2.2.2, 7.2 (what is measured, how, when, by whom)",
        f"Generated {display(context.generated_at)} from {context.source_description}. "
        "Periods are half-open UTC intervals; every mart is exported in full for the period "
        "as CSV and JSON under data/, and manifest.json lists the SHA-256 digest of every "
        "file (check with `python -m report verify <pack folder>` or `sha256sum -c SHA256SUMS`).",
        blocks=[
            Block("methods", "Methods", tables=[_methods(context)]),
            Block(
                "thresholds",
                "Thresholds and their legal sources",
                "Every regulatory number the marts apply, from the dbt seed, with its citation.",
                tables=[table("thresholds", "Thresholds", thresholds)],
                no_data=[thresholds.unavailable_reason.replace("mart ", "seed ")]
                if thresholds.unavailable_reason
                else [],
            ),
            Block("freshness", "Data freshness", tables=[_freshness(context)]),
            Block("personal-data", "Personal data", pseudonyms),
        ],
    )
