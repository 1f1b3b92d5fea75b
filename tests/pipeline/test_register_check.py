"""A bad row in the incident register is named by file and line; good rows are untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import register_check

HEADER = "incident_id,title,detected_at,aware_at,estimated_direct_loss_eur,suspected_malicious\n"


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "incident_register.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_clean_register_has_no_problems(tmp_path: Path) -> None:
    path = _write(tmp_path, "INC-1,Phishing,2026-01-01T10:00:00Z,2026-01-01T11:00:00+00:00,10,no\n")
    assert register_check.check_file(path) == []


def test_each_bad_cell_is_named_with_file_and_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "INC-1,Phishing,2026-01-01T10:00:00Z,2026-01-01T11:00:00Z,10,no\n"
        'INC-2,"Outage, with comma",yesterday,2026-01-02T11:00:00,ten,maybe\n'
        "INC-3,Fine,2026-01-03T10:00:00Z,2026-01-03T10:30:00Z,0,unknown\n",
    )
    found = {(p.line, p.column) for p in register_check.check_file(path)}
    assert found == {
        (3, "detected_at"),
        (3, "aware_at"),
        (3, "estimated_direct_loss_eur"),
        (3, "suspected_malicious"),
    }


def test_missing_key_duplicate_key_and_extra_cells(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "INC-1,A,2026-01-01T10:00:00Z,2026-01-01T11:00:00Z,1,no\n"
        ",B,2026-01-01T10:00:00Z,2026-01-01T11:00:00Z,1,no\n"
        "INC-1,C,2026-01-01T10:00:00Z,2026-01-01T11:00:00Z,1,no\n"
        "INC-4,D,2026-01-01T10:00:00Z,2026-01-01T11:00:00Z,1,no,surplus\n",
    )
    problems = {(p.line, p.column): p.message for p in register_check.check_file(path)}
    assert problems[(3, "incident_id")] == "is empty but required"
    assert problems[(4, "incident_id")] == "repeats line 2"
    assert (5, "(row)") in problems


def test_messages_never_echo_cell_values(tmp_path: Path) -> None:
    path = _write(tmp_path, "INC-9,x,jane.doe@example.org,2026-01-01T11:00:00Z,1,no\n")
    text = " ".join(str(p) for p in register_check.check_file(path))
    assert "jane.doe" not in text
    assert f"{path}:2: detected_at" in text


def test_cli_lets_the_load_go_on_unless_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, "INC-1,A,bad,2026-01-01T11:00:00Z,1,no\n")
    pattern = str(tmp_path / "*.csv")
    assert register_check.main([pattern]) == 0
    assert "incident_register.csv:2: detected_at" in capsys.readouterr().err
    assert register_check.main([pattern, "--strict"]) == 1


def test_cli_fails_when_no_file_matches(tmp_path: Path) -> None:
    assert register_check.main([str(tmp_path / "none-*.csv")]) == 2


def test_excel_byte_order_mark_and_integral_decimals_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "incident_register.csv"
    path.write_text(
        "\ufeffincident_id,detected_at,aware_at,affected_users,outage_minutes\n"
        "INC-1,2026-01-01T10:00:00Z,2026-01-01T11:00:00Z,12.0,1.5\n",
        encoding="utf-8",
    )
    assert [(p.line, p.column) for p in register_check.check_file(path)] == [(2, "outage_minutes")]
