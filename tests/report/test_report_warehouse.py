"""The data-access layer: how each mart is cut to the period, and how absence is reported."""

from conftest import CountingSource
from report_samples import TEST_KEY, mart_key, sample_tables

from report.pseudonyms import Pseudonymiser
from report.warehouse import InMemorySource, WarehouseError, load_marts, previous_period

KEEP = Pseudonymiser(TEST_KEY.encode())  # the marts' pseudonyms stay as they are


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


def test_the_loader_keeps_mart_pseudonyms_and_replaces_anything_else_personal(october):
    tables = sample_tables()
    tables["mart_nis2_privileged_activity"] = [
        {**row, "actor": "erin@example.org"} for row in tables["mart_nis2_privileged_activity"]
    ]
    marts = load_marts(InMemorySource(tables), october, KEEP)
    register = marts["mart_nis2_incident_register"].rows
    assert "203.0.113.7" not in register[0]["title"]
    assert mart_key("203.0.113.7") in register[0]["title"]
    privileged = marts["mart_nis2_privileged_activity"].rows[0]
    assert privileged["actor_key"] == mart_key("erin@example.org")
    assert privileged["actor"] == mart_key("erin@example.org")


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


def test_undated_rows_are_named_by_the_id_column_never_by_a_personal_value(october):
    undated = {"actor": "erin@example.org", "event_id": "evt-7", "event_ts": None}
    tables = {"mart_nis2_privileged_activity": [undated]}  # a personal column comes first
    data = load_marts(InMemorySource(tables), october, KEEP)["mart_nis2_privileged_activity"]
    assert data.undated_note.endswith("and are in no period: event_id evt-7")
    assert data.undated == [{**undated, "actor": mart_key("erin@example.org")}]
    without_id = {"mart_nis2_privileged_activity": [{"actor": "erin@example.org", "event_ts": ""}]}
    data = load_marts(InMemorySource(without_id), october, KEEP)["mart_nis2_privileged_activity"]
    assert data.undated_note == (
        "1 row(s) of mart_nis2_privileged_activity have no readable event_ts / event_at / "
        "occurred_at and are in no period (the mart has no event_id column to name them)"
    )


def test_each_mart_is_read_once_and_the_previous_period_comes_from_that_read(october):
    source = CountingSource(sample_tables())
    marts = load_marts(source, october, KEEP)
    before = previous_period(marts)
    assert sorted(source.reads) == sorted(set(source.reads))
    assert [r["incident_id"] for r in before["mart_nis2_incident_register"].rows] == [
        "INC-2026-009"
    ]
    assert before["mart_nis2_reporting_deadlines"].status == "empty"  # INC-009 had none
    assert len(before["mart_nis2_auth_failure_detections"].rows) == 1
    assert before["mart_nis2_identity_assurance"].rows == marts["mart_nis2_identity_assurance"].rows
    assert before["mart_nis2_access_review_status"].status == "missing"


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
