"""Section modules fed in-memory rows: what they show and what they leave out, and why."""

from datetime import UTC, datetime

from report_samples import sample_tables

from report.pseudonyms import Pseudonymiser
from report.sections import identity_access, incidents
from report.sections.base import PackContext
from report.warehouse import InMemorySource, load_marts


def _context(tables, period):
    marts = load_marts(InMemorySource(tables), period, Pseudonymiser(b"k"))
    return PackContext(
        period, "Example Org", marts, False, datetime(2026, 11, 1, tzinfo=UTC), "test rows", True
    )


def _block(section, key):
    return next(b for b in section.blocks if b.key == key)


def test_register_shows_only_stages_that_apply(october):
    section = incidents.build(_context(sample_tables(), october))
    register = _block(section, "register").tables[0]
    assert register.columns[-3:] == ["early_warning", "notification", "final"]
    rows = {
        row[0].value: {c: cell.value for c, cell in zip(register.columns, row, strict=True)}
        for row in register.rows
    }
    assert rows["INC-2026-014"]["notification"] == "breached"
    assert rows["INC-2026-015"]["is_significant"] == "false"
    assert rows["INC-2026-015"]["early_warning"] == "not_required"


def test_figures_a_mart_does_not_measure_are_left_out(october):
    section = identity_access.build(_context(sample_tables(), october))
    shown = {m.key: m for m in _block(section, "identity-assurance").metrics}
    assert "not_verified_before_privilege" not in shown  # the mart has no such column
    assert shown["not_verified_before_creation"].value == 1
    assert shown["manual_overrides"].value == 2


def test_a_missing_mart_shows_every_figure_as_no_data(october):
    tables = sample_tables()
    del tables["mart_nis2_identity_assurance"]
    block = _block(identity_access.build(_context(tables, october)), "identity-assurance")
    assert len(block.metrics) == 6
    assert all(m.value is None and m.text.endswith("(no data)") for m in block.metrics)
    assert block.no_data == [
        "no data: mart mart_nis2_identity_assurance does not exist in the warehouse"
    ]


def test_previous_period_counts_give_the_trend(october):
    block = _block(identity_access.build(_context(sample_tables(), october)), "auth-failures")
    detections = next(m for m in block.metrics if m.key == "auth_detections")
    assert (detections.value, detections.previous, detections.change) == (2, 1, "+1")


def test_sums_are_zero_without_rows_and_unknown_without_the_mart(october):
    tables = sample_tables()
    tables["mart_nis2_log_ingestion_gaps"] = []
    from report.sections import logging_evidence

    empty = _block(logging_evidence.build(_context(tables, october)), "gaps")
    del tables["mart_nis2_log_ingestion_gaps"]
    missing = _block(logging_evidence.build(_context(tables, october)), "gaps")
    minutes = {
        b: next(m for m in block.metrics if m.key == "log_gap_minutes")
        for b, block in (("empty", empty), ("missing", missing))
    }
    assert minutes["empty"].value == 0
    assert minutes["missing"].value is None
    full = _block(logging_evidence.build(_context(sample_tables(), october)), "gaps")
    assert next(m for m in full.metrics if m.key == "log_gap_minutes").value == 1320
