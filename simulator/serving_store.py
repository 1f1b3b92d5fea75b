"""Read access to the simulator's SQLite data for serving, plus the data-changing faults."""

from __future__ import annotations

import re
import sqlite3
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson

from simulator.clock import iso_z
from simulator.didit_store import open_store, to_json
from simulator.pagination import BadParamsError

MMAP_BYTES = 1 << 30
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def parse_day(query: dict[str, str], name: str) -> date | None:
    raw = query.get(name)
    if raw in (None, ""):
        return None
    try:
        if not _DAY.match(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise BadParamsError({name: ["Enter a valid date."]}) from None


def is_uuid(text: str) -> bool:
    return bool(_UUID.match(text))


def day_bounds(query: dict[str, str], to_is_exclusive_midnight: bool = False) -> list:
    """SQL conditions for inclusive UTC-day ``date_from`` / ``date_to`` on ``created_at``."""
    frm, to = parse_day(query, "date_from"), parse_day(query, "date_to")
    cond: list = []
    if frm:
        cond.append(("created_at >= ?", frm.isoformat()))
    if to:
        # Didit compares KYB `date_to` with midnight (API-NOTES §2.5): the day itself is out.
        last = to if to_is_exclusive_midnight else to + timedelta(days=1)
        cond.append(("created_at < ?", last.isoformat()))
    return cond


class Store:
    """Thread-local read connections; one lock serialises the rare writes."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        first = open_store(self.data_dir)  # fails early, with a clear message, if absent
        self.meta = {k: orjson.loads(v) for k, v in first.execute("SELECT key, value FROM kv")}
        first.close()
        self._local = threading.local()
        self._write = threading.Lock()
        self._counts: dict[tuple, int] = {}  # cleared by every data fault

    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.data_dir / "didit.sqlite", check_same_thread=False, timeout=30
            )
            conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")  # page reads without syscalls
            self._local.conn = conn
        return conn

    def rows(self, sql: str, args: list) -> list[tuple]:
        return self.db.execute(sql, args).fetchall()

    def one(self, sql: str, args: list) -> tuple | None:
        return self.db.execute(sql, args).fetchone()

    def count(self, sql: str, args: list) -> int:
        """``SELECT COUNT(*)`` results, cached: a client paging asks the same one each page."""
        key = (sql, *args)
        if key not in self._counts:
            self._counts[key] = self.db.execute(sql, args).fetchone()[0]
        return self._counts[key]

    # --- data faults -----------------------------------------------------------------
    def insert_head(self, stream: str, count: int, timestamp: str | None = None) -> list[str]:
        """Insert ``count`` records newer than everything (or all at ``timestamp``)."""
        ids = []
        with self._write:
            conn = self.db
            for i in range(count):
                ts = timestamp or iso_z(datetime.now(UTC) + timedelta(microseconds=i))
                new_id = str(uuid.uuid4())
                if stream == "sessions":
                    self._new_session(conn, new_id, ts)
                else:
                    (body,) = conn.execute(
                        "SELECT body FROM audit_log ORDER BY ts DESC, uuid DESC LIMIT 1"
                    ).fetchone()
                    entry = orjson.loads(body) | {"uuid": new_id, "timestamp": ts}
                    conn.execute(
                        "INSERT INTO audit_log VALUES (?, ?, ?)", (new_id, ts, to_json(entry))
                    )
                ids.append(new_id)
            conn.commit()
            self._counts.clear()
        return ids

    def append_audit(self, rows: list[tuple[str, str, str]]) -> None:
        """Add (uuid, ts, body) audit-log rows (simulator/live_attack.py)."""
        with self._write:
            conn = self.db
            conn.executemany("INSERT INTO audit_log VALUES (?, ?, ?)", rows)
            conn.commit()
            self._counts.clear()

    def _new_session(self, conn, new_id: str, ts: str) -> None:
        row = conn.execute(
            "SELECT d.body, d.decision, workflow_id, vendor_data FROM sessions JOIN session_docs d"
            " USING (session_id) WHERE kind='user' ORDER BY session_number DESC LIMIT 1"
        ).fetchone()
        number = (
            conn.execute("SELECT MAX(session_number) FROM sessions WHERE kind='user'").fetchone()[0]
            + 1
        )
        body = orjson.loads(row[0]) | {
            "session_id": new_id,
            "session_number": number,
            "created_at": ts,
            "status": "Not Started",
            "session_url": f"https://verify.didit.me/session/{new_id}",
        }
        decision = orjson.loads(row[1]) | {
            "session_id": new_id,
            "session_number": number,
            "created_at": ts,
            "status": "Not Started",
            "reviews": [],
        }
        conn.execute(
            "INSERT INTO sessions VALUES (?, 'user', ?, ?, 'Not Started', ?, ?, ?, ?, 0)",
            (
                new_id,
                number,
                ts,
                row[3],
                row[2],
                body.get("country"),
                body.get("didit_internal_id"),
            ),
        )
        conn.execute(
            "INSERT INTO session_docs VALUES (?, ?, ?)", (new_id, to_json(body), to_json(decision))
        )

    def delete(self, stream: str, count: int, ids: list[str] | None = None) -> list[str]:
        """Sessions: soft-delete the newest (404 afterwards); audit log: drop the oldest."""
        with self._write:
            conn = self.db
            if stream == "sessions":
                ids = ids or [
                    r[0]
                    for r in conn.execute(
                        "SELECT session_id FROM sessions WHERE deleted=0 ORDER BY created_at DESC "
                        "LIMIT ?",
                        (count,),
                    )
                ]
                conn.executemany(
                    "UPDATE sessions SET deleted=1 WHERE session_id=?", [(i,) for i in ids]
                )
            else:
                ids = ids or [
                    r[0]
                    for r in conn.execute(
                        "SELECT uuid FROM audit_log ORDER BY ts, uuid LIMIT ?", (count,)
                    )
                ]
                conn.executemany("DELETE FROM audit_log WHERE uuid=?", [(i,) for i in ids])
            conn.commit()
            self._counts.clear()
        return list(ids)
