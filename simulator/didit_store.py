"""SQLite layout of the Didit simulator's data folder: one table per resource, JSON bodies.

Bodies are stored as ready-to-send JSON so that serving a page is a concatenation, and the
columns beside them are only what filters, ordering and keyset paging need.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson

DB_NAME = "didit.sqlite"


def to_json(obj: object) -> str:
    """Compact JSON as an exact-size str: orjson's bytes keep a 4 KB buffer each, which
    would cost gigabytes at a million rows. SQLite stores it as TEXT; serving reads it back
    as bytes with ``CAST(body AS BLOB)``."""
    return orjson.dumps(obj).decode()


SCHEMA = """
CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE audit_log (uuid TEXT NOT NULL, ts TEXT NOT NULL, body BLOB NOT NULL);
CREATE TABLE sessions (
    session_id TEXT PRIMARY KEY, kind TEXT NOT NULL, session_number INTEGER NOT NULL,
    created_at TEXT NOT NULL, status TEXT NOT NULL, vendor_data TEXT, workflow_id TEXT,
    country TEXT, didit_internal_id TEXT, deleted INTEGER NOT NULL DEFAULT 0);
-- Bodies apart, so filtering and counting scan small rows only.
CREATE TABLE session_docs (session_id TEXT PRIMARY KEY, body BLOB NOT NULL,
    decision BLOB NOT NULL);
CREATE TABLE reviews (uuid TEXT PRIMARY KEY, session_id TEXT NOT NULL, created_at TEXT NOT NULL,
    body BLOB NOT NULL);
CREATE TABLE workflows (uuid TEXT PRIMARY KEY, created_at TEXT NOT NULL, body BLOB NOT NULL);
CREATE TABLE users (id TEXT PRIMARY KEY, sort_at TEXT, body BLOB NOT NULL);
CREATE TABLE businesses (id TEXT PRIMARY KEY, sort_at TEXT, body BLOB NOT NULL);
CREATE TABLE destinations (uuid TEXT PRIMARY KEY, created_at TEXT NOT NULL, body BLOB NOT NULL);
CREATE TABLE deliveries (uuid TEXT PRIMARY KEY, destination_uuid TEXT NOT NULL,
    created_at TEXT NOT NULL, body BLOB NOT NULL);
CREATE TABLE cases (uuid TEXT PRIMARY KEY, created_at TEXT NOT NULL, status TEXT NOT NULL,
    priority TEXT NOT NULL, body BLOB NOT NULL);
CREATE TABLE case_events (uuid TEXT PRIMARY KEY, case_uuid TEXT NOT NULL,
    created_at TEXT NOT NULL, body BLOB NOT NULL);
CREATE TABLE lists (uuid TEXT PRIMARY KEY, created_at TEXT NOT NULL, body BLOB NOT NULL);
CREATE TABLE list_entries (uuid TEXT PRIMARY KEY, list_uuid TEXT NOT NULL,
    created_at TEXT NOT NULL, body BLOB NOT NULL);
"""

INDEXES = """
CREATE INDEX audit_order ON audit_log (ts DESC, uuid DESC);
CREATE INDEX sessions_order ON sessions (kind, deleted, session_number DESC, session_id);
CREATE INDEX users_order ON users (sort_at DESC, id DESC);
CREATE INDEX businesses_order ON businesses (sort_at DESC, id DESC);
CREATE INDEX reviews_order ON reviews (session_id, created_at, uuid);
CREATE INDEX deliveries_order ON deliveries (destination_uuid, created_at DESC, uuid DESC);
CREATE INDEX case_events_order ON case_events (case_uuid, created_at DESC, uuid DESC);
CREATE INDEX list_entries_order ON list_entries (list_uuid, created_at DESC, uuid DESC);
"""

COLUMNS = {
    "audit_log": ("uuid", "ts", "body"),
    "sessions": (
        "session_id",
        "kind",
        "session_number",
        "created_at",
        "status",
        "vendor_data",
        "workflow_id",
        "country",
        "didit_internal_id",
        "deleted",
    ),
    "session_docs": ("session_id", "body", "decision"),
    "reviews": ("uuid", "session_id", "created_at", "body"),
    "workflows": ("uuid", "created_at", "body"),
    "users": ("id", "sort_at", "body"),
    "businesses": ("id", "sort_at", "body"),
    "destinations": ("uuid", "created_at", "body"),
    "deliveries": ("uuid", "destination_uuid", "created_at", "body"),
    "cases": ("uuid", "created_at", "status", "priority", "body"),
    "case_events": ("uuid", "case_uuid", "created_at", "body"),
    "lists": ("uuid", "created_at", "body"),
    "list_entries": ("uuid", "list_uuid", "created_at", "body"),
}


def create_store(data_dir: Path) -> sqlite3.Connection:
    """A fresh database in ``data_dir`` (an existing one is replaced)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / DB_NAME
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=OFF")  # a fresh file: nothing to roll back to
    conn.execute("PRAGMA synchronous=OFF")
    conn.executescript(SCHEMA)
    return conn


def insert_rows(conn: sqlite3.Connection, table: str, rows: list[tuple]) -> None:
    cols = COLUMNS[table]
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"  # noqa: S608 - fixed names
    conn.executemany(sql, rows)


def finish_store(conn: sqlite3.Connection) -> None:
    conn.executescript(INDEXES)
    conn.commit()
    conn.close()


def open_store(data_dir: Path) -> sqlite3.Connection:
    """Open for serving: WAL lets the fault injector write while readers page."""
    path = data_dir / DB_NAME
    if not path.exists():
        raise FileNotFoundError(
            f"no simulator data in {data_dir} (expected {DB_NAME}); run `didit-simulator generate`"
        )
    conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    return conn
