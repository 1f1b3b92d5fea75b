"""Same seed -> same bytes; a later `end` keeps the past and only adds; nothing after `end`."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import CALLS_PER_DAY, DAYS, END

from simulator.wazuh_gen import LIVE_FILE, alert_files, daily_file, read_alert_lines
from simulator.world import generate_world

FILES = (
    "incidents/incident_register.csv",
    "ground_truth.json",
    "didit/organisation.json",
    "keycloak/event_entity.jsonl",
    "keycloak/admin_event_entity.jsonl",
    "keycloak/user_entity.jsonl",
    "keycloak/user_attribute.jsonl",
    "keycloak/keycloak_role.jsonl",
    "keycloak/user_role_mapping.jsonl",
)
TABLES = (
    "audit_log",
    "sessions",
    "session_docs",
    "reviews",
    "workflows",
    "users",
    "businesses",
    "destinations",
    "deliveries",
    "cases",
    "case_events",
    "lists",
    "list_entries",
    "kv",
)


def dump(didit: Path) -> dict[str, list]:
    conn = sqlite3.connect(didit / "didit.sqlite")
    out = {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in TABLES}  # noqa: S608
    conn.close()
    return out


@pytest.fixture(scope="module")
def later(tmp_path_factory) -> Path:
    """The same world regenerated three days later into a folder with the first world."""
    out = tmp_path_factory.mktemp("later")
    generate_world(out, seed=7, days=DAYS, api_calls_per_day=CALLS_PER_DAY, end=END)
    generate_world(
        out, seed=7, days=DAYS, api_calls_per_day=CALLS_PER_DAY, end=END + timedelta(days=3)
    )
    return out


def test_same_seed_gives_the_same_bytes(world: Path, tmp_path: Path):
    again = tmp_path / "again"
    generate_world(again, seed=7, days=DAYS, api_calls_per_day=CALLS_PER_DAY, end=END)
    for name in FILES:
        assert (again / name).read_bytes() == (world / name).read_bytes(), name
    assert _alerts(again) == _alerts(world)
    assert dump(again / "didit") == dump(world / "didit")


def test_another_seed_gives_another_world(world: Path, tmp_path: Path):
    other = tmp_path / "other"
    generate_world(other, seed=8, days=DAYS, api_calls_per_day=CALLS_PER_DAY, end=END)
    assert _alerts(other) != _alerts(world)
    assert dump(other / "didit")["audit_log"] != dump(world / "didit")["audit_log"]


def _lines(path: Path) -> set[bytes]:
    return set(path.read_bytes().splitlines())


def _alerts(root: Path) -> dict[str, bytes]:
    """Each alert file's bytes (daily archives and the live file) by its path under
    wazuh/alerts."""
    base = root / "wazuh" / "alerts"
    files = [*alert_files(base), base / LIVE_FILE]
    return {str(p.relative_to(base)): p.read_bytes() for p in files}


def test_a_later_end_keeps_every_immutable_record_and_adds_new_ones(world: Path, later: Path):
    before, after = _alerts(world), _alerts(later)
    assert len(after) > len(before)
    changed = [name for name in before if after[name] != before[name]]
    assert changed == [LIVE_FILE], "archives never change; the live file moved to a new day"
    assert set(b"".join(before.values()).splitlines()) < set(b"".join(after.values()).splitlines())
    for name in (
        "keycloak/event_entity.jsonl",
        "keycloak/admin_event_entity.jsonl",
    ):
        before, after = _lines(world / name), _lines(later / name)
        assert before <= after, name
        assert len(after) > len(before) or name.endswith("admin_event_entity.jsonl"), name
    first, second = dump(world / "didit"), dump(later / "didit")
    for table in ("audit_log", "reviews", "case_events"):
        assert set(first[table]) < set(second[table]), table


def test_the_live_file_grows_in_place_and_rotates_like_wazuh(world: Path, tmp_path: Path):
    """Archives are never rewritten; the live file (the day of `end`) only grows, and at
    midnight it is completed and renamed to its day's archive, as a manager does."""
    out = tmp_path / "org"
    root = out / "wazuh" / "alerts"
    generate_world(out, seed=7, days=DAYS, api_calls_per_day=CALLS_PER_DAY, end=END)
    archives, live = alert_files(root), root / LIVE_FILE
    assert daily_file(root, END.date()) not in archives, "the day of `end` is still live"
    for path in archives:
        os.utime(path, (1, 1))
    before, inode = live.read_bytes(), live.stat().st_ino
    generate_world(
        out, seed=7, days=DAYS, api_calls_per_day=CALLS_PER_DAY, end=END + timedelta(minutes=50)
    )
    grown = live.read_bytes()
    assert live.stat().st_ino == inode, "appended in place"
    assert grown.startswith(before)
    assert len(grown) > len(before)
    generate_world(
        out, seed=7, days=DAYS, api_calls_per_day=CALLS_PER_DAY, end=END + timedelta(days=1)
    )
    assert [p for p in archives if p.stat().st_mtime != 1] == []
    rotated = daily_file(root, END.date())
    assert rotated.stat().st_ino == inode, "renamed, not copied"
    assert rotated.read_bytes().startswith(grown)
    assert live.stat().st_ino != inode
    assert live.read_bytes().startswith(b'{"timestamp":"2026-11-01T')


def test_a_later_end_keeps_sessions_and_lets_their_status_move_on(world: Path, later: Path):
    def sessions(didit: Path) -> dict[str, tuple]:
        conn = sqlite3.connect(didit / "didit.sqlite")
        rows = conn.execute(
            "SELECT session_id, kind, session_number, created_at, status FROM sessions"
        ).fetchall()
        conn.close()
        return {r[0]: r[1:] for r in rows}

    first, second = sessions(world / "didit"), sessions(later / "didit")
    assert set(first) < set(second)
    assert all(second[sid][:3] == row[:3] for sid, row in first.items())
    moved = [sid for sid, row in first.items() if second[sid][3] != row[3]]
    assert all(first[sid][3] in ("Not Started", "In Progress", "In Review") for sid in moved)


def test_the_incident_register_keeps_ids_and_only_fills_in_what_became_known(world, later):
    def rows(root: Path) -> dict[str, dict]:
        with (root / "incidents/incident_register.csv").open() as fh:
            return {r["incident_id"]: r for r in csv.DictReader(fh)}

    first, second = rows(world), rows(later)
    assert set(first) <= set(second)
    for iid, row in first.items():
        for col, value in row.items():
            if value and col not in ("status", "updated_at"):
                assert second[iid][col] == value, (iid, col)


def _max_ts(world: Path) -> list[str]:
    conn = sqlite3.connect(world / "didit" / "didit.sqlite")
    stamps = [
        conn.execute(q).fetchone()[0]
        for q in (
            "SELECT MAX(ts) FROM audit_log",
            "SELECT MAX(created_at) FROM sessions",
            "SELECT MAX(created_at) FROM reviews",
            "SELECT MAX(created_at) FROM deliveries",
            "SELECT MAX(created_at) FROM case_events",
        )
    ]
    conn.close()
    alerts = [json.loads(x)["timestamp"] for x in read_alert_lines(world / "wazuh" / "alerts")]
    return [*stamps, max(a.replace("+0000", "Z") for a in alerts)]


def test_nothing_is_produced_after_end(world: Path):
    end = END.strftime("%Y-%m-%dT%H:%M:%S")
    assert all(ts[:19] <= end for ts in _max_ts(world))
    events = [json.loads(x)["event_time"] for x in (world / "keycloak/event_entity.jsonl").open()]
    assert max(events) <= END.timestamp() * 1000
