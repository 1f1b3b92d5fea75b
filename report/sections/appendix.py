"""Appendix: how each figure was obtained, the thresholds with their legal sources, and how
fresh the data is, so an auditor can retrace every number."""

from __future__ import annotations

from report.formatting import display, raw
from report.marts import MARTS
from report.sections.base import Block, Cell, PackContext, Section, Table, table
from report.warehouse import Row

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
        ["Source table", "Last loaded", "Rows (planner estimate)"],
        ["source", "loaded_at", "rows"],
        rows,
        len(rows),
        empty_text="Load times of raw sources are not available from "
        f"{context.source_description}.",
    )


def _personal_data(context: PackContext) -> str:
    """How people and IP addresses appear, so nobody mistakes a pseudonym for a name."""
    if context.internal_names:
        unnamed = (
            f" {context.unnamed_pseudonyms} pseudonyms matched no identity in the warehouse and "
            "are shown as pseudonyms."
            if context.unnamed_pseudonyms
            else ""
        )
        return (
            "Internal version: the marts' pseudonyms are turned back into real names and IP "
            "addresses (HMAC-SHA256 of the warehouse's identities under NIS2_PSEUDONYM_KEY). "
            f"Restrict its distribution.{unnamed}"
        )
    text = (
        "People and IP addresses appear as the marts' own pseudonyms (p_ and 24 hex digits "
        "of HMAC-SHA256 under the warehouse key), unchanged, so each row can be matched to "
        "its mart row. E-mail and IP addresses in free text are replaced the same way "
    )
    if context.pseudonym_key_managed:
        return text + "with NIS2_PSEUDONYM_KEY, the key dbt uses."
    return text + (
        "with a one-off key (NIS2_PSEUDONYM_KEY not set): those pseudonyms match neither the "
        "marts nor other packs."
    )


def applicable_thresholds(context: PackContext) -> tuple[list[Row], str]:
    """The thresholds for every entity type ('all') and for the entity's own IR 2024/2690
    types (profile ir_entity_types, ';' or ',' separated), and a note on what is left out.
    Without a known type every row is shown: nothing is hidden on a guess."""
    rows = context.marts[THRESHOLDS].rows
    declared = str(context.profile.get("ir_entity_types") or "")
    types = {t.strip() for t in declared.replace(",", ";").split(";") if t.strip()}
    if not types or not rows or not any("entity_type" in row for row in rows):
        return rows, ""
    chosen = [r for r in rows if str(r.get("entity_type") or "all") in types | {"all"}]
    left_out = len(rows) - len(chosen)
    note = (
        f"Shown: the {len(chosen)} thresholds for all entities and for this entity's type "
        f"({', '.join(sorted(types))}); {left_out} thresholds for other entity types are left "
        f"out here and are in data/{THRESHOLDS}.csv."
    )
    return chosen, note


def build(context: PackContext) -> Section:
    thresholds = context.marts[THRESHOLDS]
    shown, shown_note = applicable_thresholds(context)
    threshold_table = table("thresholds", "Thresholds", thresholds, shown, limit=max(len(shown), 1))
    if shown_note:
        threshold_table.note = shown_note
    return Section(
        "appendix",
        "Appendix: methods, thresholds and data freshness",
        "IR 2024/2690 Annex 2.2.2, 7.2 (what is measured, how, when, by whom)",
        f"Generated {display(context.generated_at)} from {context.source_description}. "
        "Periods are half-open UTC intervals; every mart is exported in full for the period "
        "as CSV and JSON under data/. content-manifest.json lists the SHA-256 digest of every "
        "export and draft (its own digest is printed on the cover and in every PDF page "
        "footer); manifest.json lists every file and is signed (manifest.json.sig, Ed25519), "
        "and the PDF carries a PAdES signature. Check the whole chain with `nis2-report verify "
        "--public-key <signer's public key> <pack folder>` (report/README.md, 'Signatures').",
        blocks=[
            Block("methods", "Methods", tables=[_methods(context)]),
            Block(
                "thresholds",
                "Thresholds and their legal sources",
                "Every regulatory number the marts apply, from the dbt seed, with its citation.",
                tables=[threshold_table],
                no_data=[thresholds.unavailable_reason.replace("mart ", "seed ")]
                if thresholds.unavailable_reason
                else [],
            ),
            Block("freshness", "Data freshness", tables=[_freshness(context)]),
            Block(
                "dictionary",
                "Data dictionary and the CISO Assistant export",
                "data/data-dictionary.csv (and .json) lists every column of every export with "
                "a plain label and the description from the dbt project's docs; a column the "
                "docs do not describe says so. data/ciso-assistant-nis2-annex-assessment.csv "
                "carries the control-evidence matrix under the requirement ids and URNs of "
                "CISO Assistant's IR 2024/2690 framework library (mapping: seed "
                "ciso_assistant_nis2_annex_map, with its source) in the form its Data Wizard "
                "imports as a compliance assessment: pass -> compliant, fail -> non_compliant, "
                "no data and manual evidence -> not_assessed, documented as not applicable -> "
                "not_applicable; our reason, evidence rows and window in the observations.",
            ),
            Block("personal-data", "Personal data", _personal_data(context)),
        ],
    )
