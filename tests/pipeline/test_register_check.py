"""A bad row in the incident register is named by file and line; the check reads the files
exactly as tap-incidents' `files` setting names them, and any problem fails it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import incidents_tap, register_check

# docs/contracts.md, "Incident register": the header a register must have.
HEADER = (
    "incident_id,title,category,severity,status,detected_at,aware_at,contained_at,resolved_at,"
    "suspected_malicious,cross_border,root_cause_key,root_cause,estimated_direct_loss_eur,"
    "affected_users,outage_minutes,limited_availability_minutes,cia_compromised,"
    "is_planned_maintenance,linked_alert_ids,early_warning_submitted_at,early_warning_ref,"
    "notification_submitted_at,notification_ref,final_report_submitted_at,final_report_ref,"
    "progress_report_submitted_at,progress_report_ref,updated_at,description,threat_type,"
    "started_at,affected_member_states,affected_services,affected_assets,mitigation_measures,"
    "direct_loss_potential_eur,outage_start_at,outage_end_at,slow_response_minutes,"
    "avg_response_seconds,dns_wrong_domains,dns_managed_domains,dns_compromise_cause,"
    "unauthorised_access_successful,severe_disruption_capable,physical_access_compromised,"
    "significance_decision,significance_assessed_at,personal_data_breach,gdpr_notified_at,"
    "recipients_informed,csirt_assistance_requested,law_enforcement_involved,tlp,iocs,"
    "intermediate_requested_at,intermediate_due_at,intermediate_submitted_at,intermediate_ref"
)
COLUMNS = HEADER.split(",")


def row(**cells: str) -> str:
    """A CSV line with the given cells (others empty), in the contract's column order."""
    base = {"incident_id": "INC-1", "detected_at": "2026-01-01T10:00:00Z"}
    base["aware_at"] = "2026-01-01T11:00:00+00:00"
    base.update(cells)
    return ",".join(base.get(c, "") for c in COLUMNS) + "\n"


def _write(tmp_path: Path, *rows: str, name: str = "incident_register.csv") -> Path:
    path = tmp_path / name
    path.write_text(",".join(COLUMNS) + "\n" + "".join(rows), encoding="utf-8")
    return path


def test_clean_register_has_no_problems(tmp_path: Path) -> None:
    path = _write(tmp_path, row(estimated_direct_loss_eur="10", suspected_malicious="no"))
    assert register_check.check_file(path) == []


def test_each_bad_cell_is_named_with_file_and_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        row(suspected_malicious="no"),
        row(
            incident_id="INC-2",
            title='"Outage, with comma"',
            detected_at="yesterday",
            aware_at="2026-01-02T11:00:00",
            estimated_direct_loss_eur="ten",
            suspected_malicious="maybe",
        ),
        row(incident_id="INC-3", suspected_malicious="unknown"),
    )
    found = {(p.line, p.column) for p in register_check.check_file(path)}
    assert found == {
        (3, "detected_at"),
        (3, "aware_at"),
        (3, "estimated_direct_loss_eur"),
        (3, "suspected_malicious"),
    }


def test_missing_key_duplicate_key_and_extra_or_missing_cells(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        row(title="A"),
        row(incident_id=""),
        row(title="C"),
        row(incident_id="INC-4").rstrip("\n") + ",surplus\n",
        row(incident_id="INC-5").rsplit(",", 3)[0] + "\n",
    )
    problems = {(p.line, p.column): p.message for p in register_check.check_file(path)}
    assert problems == {
        (3, "incident_id"): "is empty but required",
        (4, "incident_id"): "repeats line 2",
        (5, "(row)"): "has more cells than the header",
        (6, "(row)"): "has fewer cells than the header",
    }


def test_a_missing_column_is_named_on_the_header_line(tmp_path: Path) -> None:
    path = tmp_path / "incident_register.csv"
    header = [c for c in COLUMNS if c != "severity"]
    path.write_text(",".join(header) + "\n", encoding="utf-8")
    assert [str(p) for p in register_check.check_file(path)] == [
        f"{path}:1: severity: column is missing from the header"
    ]


def test_messages_never_echo_cell_values(tmp_path: Path) -> None:
    path = _write(tmp_path, row(incident_id="INC-9", detected_at="jane.doe@example.org"))
    text = " ".join(str(p) for p in register_check.check_file(path))
    assert "jane.doe" not in text
    assert f"{path}:2: detected_at" in text


def test_cli_fails_on_any_problem_and_when_no_file_matches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, row(detected_at="bad"))
    assert register_check.main([str(tmp_path / "*.csv")]) == 1
    assert "incident_register.csv:2: detected_at" in capsys.readouterr().err
    assert register_check.main([str(tmp_path / "none-*.csv")]) == 2


def test_excel_byte_order_mark_and_integral_decimals_are_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path, row(affected_users="12.0", outage_minutes="1.5"))
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert [(p.line, p.column) for p in register_check.check_file(path)] == [(2, "outage_minutes")]


def test_headers_are_named_as_the_tap_names_them(tmp_path: Path) -> None:
    """tap-spreadsheets turns `Incident ID` into `incident_id`: such a header is complete."""
    path = tmp_path / "incident_register.csv"
    header = ["Incident ID" if c == "incident_id" else c.upper() for c in COLUMNS]
    path.write_text(",".join(header) + "\n" + row(), encoding="utf-8")
    assert register_check.check_file(path) == []


def test_duplicate_across_files_and_a_differing_header_are_problems(tmp_path: Path) -> None:
    first = _write(tmp_path, row(), name="a.csv")
    second = tmp_path / "b.csv"
    second.write_text(",".join([*COLUMNS[1:], "incident_id"]) + "\n")  # same columns, moved
    problems = register_check.check_files([{"path": str(tmp_path / "*.csv"), "format": "csv"}])
    assert [str(p) for p in problems] == [
        f"{second}:1: (header): differs from the header of {first} (the tap reads by position)"
    ]
    _write(tmp_path, row(), name="b.csv")
    problems = register_check.check_files([{"path": str(tmp_path / "*.csv"), "format": "csv"}])
    assert [str(p) for p in problems] == [f"{second}:2: incident_id: repeats {first}:2"]


def test_a_files_entry_matching_nothing_is_a_problem(tmp_path: Path) -> None:
    problems = register_check.check_files([{"path": str(tmp_path / "*.csv"), "format": "csv"}])
    assert [(p.column, p.message) for p in problems] == [
        ("path", f"no file matches {tmp_path / '*.csv'}")
    ]
    assert [p.column for p in register_check.check_files([])] == ["files"]


def _tap_config(tmp_path: Path, **extra: object) -> Path:
    files = [{"path": str(tmp_path / "*.csv"), "format": "csv", "table_name": "t"}]
    path = tmp_path / "tap.config.json"
    path.write_text(json.dumps({"files": files, **extra}))
    return path


def test_the_tap_gate_stops_a_sync_on_a_bad_register_before_running_the_tap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    register = _write(tmp_path, row(), row(incident_id="INC-2", aware_at="soon"))
    ran: list[list[str]] = []
    monkeypatch.setattr(incidents_tap, "exec_tap", lambda *a, **k: ran.append([a, k]))
    config = _tap_config(tmp_path)
    assert incidents_tap.main(["--config", str(config), "--catalog", "c.json"]) == 1
    err = capsys.readouterr().err
    assert f"incident register: {register}:3: aware_at: is not an ISO 8601 timestamp" in err
    assert "nothing loaded" in err
    assert ran == []


def test_the_tap_gate_loads_anyway_when_allowed_and_never_passes_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, row(), row(incident_id="INC-2", aware_at="soon"))
    ran: list[tuple] = []
    monkeypatch.setattr(incidents_tap, "exec_tap", lambda *a: ran.append(a))
    config = _tap_config(tmp_path, allow_invalid_rows=True)
    argv = ["--config", str(config), "--state", "s.json", "--catalog", "c.json"]
    incidents_tap.main(argv)
    assert "WARNING 1 problem, loaded anyway" in capsys.readouterr().err
    files = [{"path": str(tmp_path / "*.csv"), "format": "csv", "table_name": "t"}]
    assert ran == [("tap-spreadsheets", {"files": files}, ["--catalog", "c.json"], None)]


def test_discovery_passes_through_without_a_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[tuple] = []
    monkeypatch.setattr(incidents_tap, "exec_tap", lambda *a: ran.append(a))
    config = _tap_config(tmp_path)  # no register file at all: discovery still runs
    incidents_tap.main(["--config", str(config), "--discover"])
    files = [{"path": str(tmp_path / "*.csv"), "format": "csv", "table_name": "t"}]
    assert ran == [("tap-spreadsheets", {"files": files}, ["--discover"], None)]
