"""The data-access layer: how each mart is cut to the period, and how absence is reported."""

from report_samples import sample_tables

from report.pseudonyms import Pseudonymiser
from report.warehouse import InMemorySource, WarehouseError, load_marts

KEEP = Pseudonymiser(None, enabled=False)


def test_incidents_active_in_the_period_are_kept_and_closed_earlier_ones_dropped(october):
    marts = load_marts(InMemorySource(sample_tables()), october, KEEP)
    ids = [row["incident_id"] for row in marts["mart_nis2_incident_register"].rows]
    assert ids == ["INC-2026-014", "INC-2026-015"]


def test_an_incident_without_awareness_time_falls_back_to_detection(october):
    tables = sample_tables()
    tables["mart_nis2_incident_register"] = [
        {**tables["mart_nis2_incident_register"][0], "aware_at": None}
    ]
    marts = load_marts(InMemorySource(tables), october, KEEP)
    assert len(marts["mart_nis2_incident_register"].rows) == 1


def test_an_incident_still_open_from_last_month_is_in_the_period(october):
    tables = sample_tables()
    tables["mart_nis2_incident_register"] = [
        {**tables["mart_nis2_incident_register"][2], "resolved_at": None}
    ]
    marts = load_marts(InMemorySource(tables), october, KEEP)
    assert [r["incident_id"] for r in marts["mart_nis2_incident_register"].rows] == ["INC-2026-009"]


def test_deadlines_follow_the_incidents_of_the_period(october):
    tables = sample_tables()
    tables["mart_nis2_reporting_deadlines"] = [
        *tables["mart_nis2_reporting_deadlines"],
        {"incident_id": "INC-2026-009", "stage": "final", "status": "met"},
    ]
    marts = load_marts(InMemorySource(tables), october, KEEP)
    kept = {row["incident_id"] for row in marts["mart_nis2_reporting_deadlines"].rows}
    assert kept == {"INC-2026-014", "INC-2026-015"}


def test_timed_marts_keep_the_period_and_hold_the_previous_one_apart(october):
    marts = load_marts(InMemorySource(sample_tables()), october, KEEP)
    detections = marts["mart_nis2_auth_failure_detections"]
    assert len(detections.rows) == 2
    assert len(detections.previous_rows) == 1
    assert (
        detections.cut_note == "window_start (else detected_at, else window_end) within the period"
    )


def test_missing_and_empty_marts_say_so(october):
    marts = load_marts(InMemorySource(sample_tables()), october, KEEP)
    missing = marts["mart_nis2_access_review_status"]
    assert missing.status == "missing"
    assert "does not exist" in missing.unavailable_reason
    empty = marts["mart_nis2_access_anomalies"]
    assert empty.status == "empty"
    assert "no rows for this period" in empty.unavailable_reason


def test_a_mart_without_a_time_column_is_shown_whole_and_the_note_says_so(october):
    tables = sample_tables()
    tables["mart_nis2_privileged_activity"] = [{"event_id": "x", "actor_key": "a"}]
    marts = load_marts(InMemorySource(tables), october, KEEP)
    data = marts["mart_nis2_privileged_activity"]
    assert len(data.rows) == 1
    assert "no time column" in data.cut_note


def test_rows_are_pseudonymised_by_the_loader(october):
    marts = load_marts(InMemorySource(sample_tables()), october, Pseudonymiser(b"k"))
    register = marts["mart_nis2_incident_register"].rows
    assert all(row["reported_by"].startswith("person-") for row in register)
    assert "203.0.113.7" not in register[0]["title"]


def test_rows_without_a_readable_time_are_named_not_dropped(october):
    tables = sample_tables()
    tables["mart_nis2_incident_register"] = [
        *tables["mart_nis2_incident_register"],
        {
            **tables["mart_nis2_incident_register"][0],
            "incident_id": "INC-2026-099",
            "aware_at": None,
            "detected_at": "not a time",
        },
    ]
    marts = load_marts(InMemorySource(tables), october, KEEP)
    register = marts["mart_nis2_incident_register"]
    assert [r["incident_id"] for r in register.undated] == ["INC-2026-099"]
    assert "incident_id INC-2026-099" in register.undated_note
    assert "INC-2026-099" not in [r["incident_id"] for r in register.rows]


def test_an_unreadable_mart_is_reported_and_the_others_still_load(october):
    class Flaky(InMemorySource):
        def fetch(self, name, at_columns, since, until):
            if name == "mart_nis2_privileged_activity":
                raise WarehouseError("mart_nis2_privileged_activity: permission denied")
            return super().fetch(name, at_columns, since, until)

    marts = load_marts(Flaky(sample_tables()), october, KEEP)
    broken = marts["mart_nis2_privileged_activity"]
    assert broken.status == "error"
    assert broken.unavailable_reason == (
        "no data: mart mart_nis2_privileged_activity could not be read "
        "(mart_nis2_privileged_activity: permission denied)"
    )
    assert marts["mart_nis2_incident_register"].status == "ok"
