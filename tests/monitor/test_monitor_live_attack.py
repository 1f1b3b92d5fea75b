"""The live demo's attack: what `POST /_sim/attack` appends to the simulator's audit log."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import pytest

from simulator.didit_store import create_store, finish_store
from simulator.live_attack import AttackError, attack, brute_force_rows
from simulator.serving_store import Store

NOW = datetime(2026, 12, 6, 9, 0, 0, tzinfo=UTC)


def test_brute_force_ends_now_with_a_success_from_the_same_address() -> None:
    rows = brute_force_rows("ada@example.org", failures=6, success=True, now=NOW)
    bodies = [json.loads(body) for _, _, body in rows]
    assert [b["status_code"] for b in bodies] == [401, 401, 401, 401, 401, 429, 200]
    assert rows[-1][1] == "2026-12-06T09:00:00.000000Z"
    assert rows[0][1] == "2026-12-06T08:59:48.000000Z"  # 2 s apart
    assert {b["ip_address"] for b in bodies} == {"198.18.66.77"}
    assert [b["actor_type"] for b in bodies] == ["ANONYMOUS"] * 6 + ["USER"]
    assert all(b["request_body"] == {"email": "ada@example.org", "password": "***"} for b in bodies)
    assert len({uid for uid, _, _ in rows}) == 7


def test_bad_requests_are_refused() -> None:
    with pytest.raises(AttackError):
        brute_force_rows("ada@example.org", failures=0, success=False)
    with pytest.raises(AttackError):
        brute_force_rows("not-an-address", failures=3, success=False)


def test_attack_is_appended_to_the_served_audit_log(tmp_path) -> None:
    conn = create_store(tmp_path)
    conn.execute("INSERT INTO kv VALUES ('organisation', '{}')")
    finish_store(conn)
    answer = attack(Store(tmp_path), {"target": "ada@example.org", "failures": 5})
    assert answer["entries"] == 6
    with sqlite3.connect(tmp_path / "didit.sqlite") as db:
        stored = db.execute("SELECT ts FROM audit_log ORDER BY ts").fetchall()
    assert len(stored) == 6
    assert (stored[0][0], stored[-1][0]) == (answer["first_timestamp"], answer["last_timestamp"])
