"""`nis2-wazuh-spool`: hand tap-wazuh only the Wazuh alert lines it has not loaded yet.

tap-jsonl 0.3.1 reads N files N times and never skips an unchanged one (README, "Wazuh"), so
it must not see the manager's files directly. Run by Meltano around `tap-wazuh target-postgres`:

- `prepare` compares each alert file with the committed manifest, copies the new complete,
  valid lines to the spool and writes a pending manifest of what it copied. Every line read is
  either spooled or left out under a reason (REASONS), named by file and line, never shown: it
  may hold personal data;
- `commit`, after the load succeeded, checks that every spooled alert id is in the warehouse
  table (a tap pointed elsewhere, or a load that dropped rows, would otherwise be recorded as
  loaded), then renames the pending manifest over the committed one, empties the spool and
  appends the run's counts to `<state_dir>/ledger.jsonl` (docs/contracts.md, "Wazuh ledger").

A failed or killed load never reaches `commit`, so the next `prepare` spools the same lines
again and target-postgres upserts them on the alert `id`: nothing lost, nothing duplicated.
Each batch has an id and belongs to the job that prepared it (the `meltano run` process, by
pid and start time): while that job runs, another job's `prepare` or `commit` on the same
state_dir is refused; once it is gone, its batch is spooled again.
A file is recognised by the hash of its first line and resumed only if the bytes before the
committed offset are unchanged, so Wazuh's midnight rename (even a later gzip) or a copied
folder continue where reading stopped, and a rewritten or truncated file is read again.
"""

from __future__ import annotations

import argparse
import fcntl
import glob
import gzip
import hashlib
import json
import os
import re
import secrets
import socket
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import orjson
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from nis2_settings import ROOT, PgSettings

DEFAULT_SOURCES = (
    "/var/ossec/logs/alerts/alerts.json",
    "/var/ossec/logs/alerts/*/*/ossec-alerts-*.json",
    "/var/ossec/logs/alerts/*/*/ossec-alerts-*.json.gz",
)
SOURCES_ENV = "NIS2_WAZUH_SOURCES"
STATE_DIR_ENV = "NIS2_WAZUH_STATE_DIR"
MAX_LINE_ENV = "NIS2_WAZUH_MAX_LINE_BYTES"
DEFAULT_MAX_LINE_BYTES = 1024 * 1024  # a real alert is a few kB; a line this long is damage
MAX_LINE_SETTING = f"wazuh-spool's max_line_bytes (WAZUH_SPOOL_MAX_LINE_BYTES, {MAX_LINE_ENV})"
LEDGER_LINES = 100  # left-out lines listed (by file and line) per ledger entry; all are counted
SAID_LINES = 200  # left-out lines named on stderr per run; the rest are counted
TABLE_ENV = "NIS2_WAZUH_TABLE"
DEFAULT_TABLE = "tap_wazuh.wazuh_alerts"  # target-postgres: tap-wazuh's namespace, stream name
# Named in errors: the settings as a Meltano user sets them (README, "Wazuh").
STATE_DIR_SETTING = "wazuh-spool's state_dir (WAZUH_SPOOL_STATE_DIR)"
TAP_PATH_SETTING = "tap-wazuh's path (TAP_WAZUH_PATH)"
TAIL_BYTES = 256  # the bytes before a committed offset that must be unchanged to resume
MANIFEST_VERSION = 1
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ARCHIVE = re.compile(r"(\d{4})/([A-Z][a-z]{2})/ossec-alerts-(\d{2})\.json(\.gz)?$")


class SpoolError(RuntimeError):
    """A setting or file the spool cannot use; the message names it."""


def _say(message: str) -> None:
    print(f"wazuh-spool: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class SpoolDir:
    """The spool's state folder: committed and pending manifests, the spool tap-wazuh reads."""

    root: Path

    @property
    def spool(self) -> Path:
        return self.root / "spool"

    def batch_file(self, batch: dict) -> Path:
        """The spool file of a batch (`alerts.json` for a batch from before batch ids)."""
        return self.spool / batch.get("file", "alerts.json")

    @property
    def committed(self) -> Path:
        return self.root / "manifest.json"

    @property
    def pending(self) -> Path:
        return self.root / "manifest.pending.json"

    @property
    def ledger(self) -> Path:
        return self.root / "ledger.jsonl"

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One step at a time on this folder (two jobs must not interleave file moves)."""
        self.spool.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def clear_spool(self) -> None:
        for path in self.spool.iterdir():
            path.unlink()

    def read_manifest(self, path: Path) -> dict:
        if not path.exists():
            return {"version": MANIFEST_VERSION, "files": {}}
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            if manifest.get("version") != MANIFEST_VERSION or "files" not in manifest:
                raise ValueError("unknown manifest layout")
        except ValueError as exc:
            raise SpoolError(
                f"{path} is not a manifest this version understands ({exc}); "
                "`nis2-wazuh-spool reset` forgets it and reads every alert file again"
            ) from exc
        return manifest


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from field 3 (state) on; None if the process is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (name) "
    return None if fields[0] in {"Z", "X"} else fields


def _start_time(pid: int) -> int | None:
    """When a live process started (clock ticks after boot; field 22), None if gone."""
    fields = _stat(pid)
    return int(fields[19]) if fields else None


def _lineage() -> set[tuple[int, int | None]]:
    """(pid, start time) of this process and its ancestors: a job's wrapper (`time`, `sh -c`)
    between Meltano and the spool still belongs to the job."""
    found, pid = set(), os.getpid()
    while pid > 1 and (fields := _stat(pid)):
        found.add((pid, int(fields[19])))
        pid = int(fields[1])  # ppid is field 4
    return found


@dataclass(frozen=True)
class Job:
    """The job a batch belongs to: the process that ran the spool (under Meltano, the
    `meltano run` that runs prepare, the load and commit). Its start time tells a pid reused
    after the job died from the job itself."""

    host: str
    boot: str
    pid: int
    started: int | None

    @classmethod
    def of(cls, pid: int) -> Job:
        return cls(socket.gethostname(), _boot_id(), pid, _start_time(pid))

    @classmethod
    def current(cls) -> Job:
        return cls.of(os.getppid())

    @classmethod
    def from_record(cls, record: object) -> Job | None:
        """The job in a pending manifest; None for one written before batches had owners."""
        if not isinstance(record, dict):
            return None
        try:
            return cls(record["host"], record["boot"], int(record["pid"]), record["started"])
        except (KeyError, TypeError, ValueError):
            return None

    def is_running(self) -> bool | None:
        """Whether the job still runs; None when it ran on another machine (cannot tell)."""
        if self.host != socket.gethostname():
            return None
        if self.boot != _boot_id():
            return False  # the machine restarted since
        return self.started is not None and _start_time(self.pid) == self.started

    def describe(self) -> str:
        return f"process {self.pid} on {self.host}"


def _holder_blocks(state: SpoolDir, batch: dict, job: Job, verb: str) -> None:
    """Refuse to `verb` while the batch belongs to another job still running (or one this
    machine cannot check): its lines are being loaded and only it may commit them."""
    holder = Job.from_record(batch.get("job"))
    if holder is None or holder == job or (holder.pid, holder.started) in _lineage():
        return
    running = holder.is_running()
    if running is False:
        return
    where = "still running" if running else "on another machine, which this one cannot check"
    undone = {"prepare": "spooled", "commit": "marked loaded", "reset": "forgotten"}[verb]
    gone = "" if running else f" (if that job is gone, delete {state.pending})"
    raise SpoolError(
        f"cannot {verb}: {state.root} (WAZUH_SPOOL_STATE_DIR) holds batch {batch.get('id')} "
        f"of another job ({holder.describe()}), {where}. One job at a time per state_dir: "
        f"nothing was {undone}; run this job again when the other has finished{gone}"
    )


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never half of one, even after a power cut."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    _sync_dir(path.parent)


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def _open(path: Path) -> BinaryIO:
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")  # type: ignore[return-value]


def _order(path: Path) -> tuple:
    """Archives by day (Wazuh's month folders do not sort by name), then everything else."""
    match = _ARCHIVE.search(path.as_posix())
    if match and match.group(2) in _MONTHS:
        year, month, day = int(match.group(1)), _MONTHS.index(match.group(2)), match.group(3)
        return (0, year, month, int(day), path.as_posix())
    return (1, 0, 0, 0, path.as_posix())


def source_files(patterns: list[str]) -> list[Path]:
    """Every file the globs match, each once, oldest archive first and the live file last."""
    found: set[Path] = set()
    for pattern in patterns:
        matches = [Path(p) for p in glob.glob(os.path.expanduser(pattern)) if Path(p).is_file()]
        if not matches:
            _say(f"note: no file matches {pattern}")
        found.update(p.resolve() for p in matches)
    if not found:
        raise SpoolError(
            f"no Wazuh alert file matches {', '.join(patterns)}: set the wazuh-spool `sources` "
            "setting to the globs of alerts.json and its daily archives (under Meltano: "
            f"WAZUH_SPOOL_SOURCES; run alone: --source or {SOURCES_ENV})"
        )
    return sorted(found, key=_order)


# Why a line is left out: the reason (a key in the ledger) and what the message says.
REASONS = {
    "empty": "empty line",
    "too_long": "longer than the max_line_bytes limit",
    "invalid_utf8": "not valid UTF-8",
    "truncated": "JSON cut short (the line ends inside the alert)",
    "not_json": "not valid JSON",
    "not_object": "a JSON value that is not an object",
    "id_missing": 'no alert "id"',
    "id_not_string": 'alert "id" is not a non-empty string',
}
_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return "a number"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def problem_with(line: bytes) -> tuple[str, str] | None:
    """(reason, message) why a line cannot be loaded as an alert, or None; never quotes it."""
    body = line.rstrip(b"\r\n")
    if not body.strip():
        return "empty", REASONS["empty"]
    try:
        alert = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as bad:
            return "invalid_utf8", f"{REASONS['invalid_utf8']} (byte {bad.start + 1})"
        if exc.pos >= len(body.rstrip()):
            return "truncated", REASONS["truncated"]
        return "not_json", f"{REASONS['not_json']} (column {exc.colno})"
    if not isinstance(alert, dict):
        return "not_object", f"{REASONS['not_object']} ({_json_type(alert)})"
    if "id" not in alert:
        return "id_missing", REASONS["id_missing"]
    if not isinstance(alert["id"], str) or not alert["id"]:
        kind = "an empty string" if alert["id"] == "" else _json_type(alert["id"])
        return "id_not_string", f"{REASONS['id_not_string']} ({kind})"
    return None


def _lines(handle: BinaryIO, limit: int) -> Iterator[tuple[bytes | None, int, bool]]:
    """(line, size in bytes, complete) for each line from the handle's position on. A line
    longer than `limit` bytes (end-of-line not counted) is skipped in chunks, never held in
    memory: it comes as None. A last line without an end-of-line comes as not complete."""
    while raw := handle.readline(limit + 2):
        if raw.endswith(b"\n") or len(raw) <= limit:
            complete = raw.endswith(b"\n")
            yield (raw if len(raw.rstrip(b"\r\n")) <= limit else None), len(raw), complete
            if not complete:
                return
            continue
        size, chunk = len(raw), raw
        while chunk and not chunk.endswith(b"\n"):
            chunk = handle.readline(1024 * 1024)
            size += len(chunk)
        yield None, size, bool(chunk)
        if not chunk:
            return


@dataclass
class FileRead:
    """What one prepare took from one source file."""

    path: Path
    first_line: int  # 1-based number of the first line read this time
    lines: int = 0  # complete lines read (including empty and bad ones)
    alerts: int = 0
    left_out: int = 0
    held_back: int | None = None  # line number of an unfinished last line


@dataclass
class LeftOut:
    """The lines one prepare left out: each counted under its reason, the first ones listed
    (file and line) and named on stderr, none shown."""

    counts: dict[str, int] = field(default_factory=dict)
    lines: list[dict] = field(default_factory=list)

    def add(self, path: Path, line: int, reason: str, message: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        if len(self.lines) < LEDGER_LINES:
            self.lines.append({"file": str(path), "line": line, "reason": reason})
        total = sum(self.counts.values())
        if total <= SAID_LINES:
            _say(f"{path}:{line}: {message}; line left out")
        elif total == SAID_LINES + 1:
            _say(f"more than {SAID_LINES} lines left out: the rest are counted, not named")


def _head(handle: BinaryIO, limit: int) -> str | None:
    """The identity of a file: the hash of its first complete line, of its first `limit` + 2
    bytes if longer (None while unfinished)."""
    handle.seek(0)
    first = handle.readline(limit + 2)
    if first.endswith(b"\n"):
        return _digest(first)
    chunk = first if len(first) == limit + 2 else b""  # shorter: unfinished, at the end
    while chunk and not chunk.endswith(b"\n"):
        chunk = handle.readline(1024 * 1024)
    return _digest(first) if chunk else None


def _resume_point(handle: BinaryIO, head: str | None, candidates: list[dict]) -> tuple[int, int]:
    """(byte offset, lines) to go on from: a candidate with this head whose last committed
    bytes are still in place, else the start of the file."""
    for entry in candidates:
        if head is None or entry.get("head") != head:
            continue
        if _tail(handle, entry["offset"]) == entry["tail"]:
            return entry["offset"], entry["lines"]
    return 0, 0


@dataclass(frozen=True)
class Copy:
    """Where one prepare copies lines to and how it judges them."""

    out: BinaryIO
    left_out: LeftOut
    limit: int = DEFAULT_MAX_LINE_BYTES


def _copy_new_lines(handle: BinaryIO, read: FileRead, offset: int, copy: Copy) -> int:
    """Copy the complete, valid lines after `offset` to the spool, leave out the others under
    their reason; return the offset reached."""
    handle.seek(offset)
    for raw, size, complete in _lines(handle, copy.limit):
        if not complete:
            read.held_back = read.first_line + read.lines
            break
        read.lines += 1
        offset += size
        if raw is None:
            problem = ("too_long", f"{size - 1:,} bytes, longer than {MAX_LINE_SETTING}")
        else:
            problem = problem_with(raw)
        if problem:
            read.left_out += 1
            copy.left_out.add(read.path, read.first_line + read.lines - 1, *problem)
            continue
        copy.out.write(raw)
        read.alerts += 1
    return offset


def _tail(handle: BinaryIO, offset: int) -> str:
    """The hash of the bytes just before `offset`: a resume needs them unchanged."""
    start = max(0, offset - TAIL_BYTES)
    handle.seek(start)
    return _digest(handle.read(offset - start))


def _read_source(path: Path, committed: dict, copy: Copy) -> tuple[dict, FileRead | None]:
    """The manifest entry after reading `path`'s new lines into `out` (None: unchanged)."""
    try:  # the live file may be renamed between the glob and here (midnight rotation)
        stat = path.stat()
    except OSError as exc:
        raise SpoolError(f"cannot read Wazuh alert file {path}: {exc}") from exc
    own = committed["files"].get(str(path))
    if own and own["size"] == stat.st_size and own["mtime_ns"] == stat.st_mtime_ns:
        return own, None
    # Own entry first, then others with the same first line (the live file before rotation).
    others = sorted(
        (e for p, e in committed["files"].items() if p != str(path)),
        key=lambda e: -e["offset"],
    )
    try:
        with _open(path) as handle:
            head = _head(handle, copy.limit)
            offset, lines = _resume_point(handle, head, [e for e in (own, *others) if e])
            read = FileRead(path, first_line=lines + 1)
            new_offset = _copy_new_lines(handle, read, offset, copy)
            tail = _tail(handle, new_offset)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise SpoolError(f"cannot read Wazuh alert file {path}: {exc}") from exc
    entry = {
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "head": head,
        "offset": new_offset,
        "lines": lines + read.lines,
        "tail": tail,
    }
    return entry, read


def prepare(
    state: SpoolDir,
    patterns: list[str],
    job: Job | None = None,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> dict:
    """Spool every new line since the committed manifest into a new batch owned by `job`
    (default: the job running us); write the pending manifest."""
    job = job or Job.current()
    left_out = LeftOut()
    with state.locked():
        if state.pending.exists():
            _holder_blocks(
                state, state.read_manifest(state.pending).get("batch", {}), job, "prepare"
            )
            _say("an earlier batch was never committed (its load failed): spooling it again")
            state.pending.unlink()
        state.clear_spool()
        committed = state.read_manifest(state.committed)
        files = source_files(patterns)
        batch_id = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"
        batch_file = state.spool / f"alerts-{batch_id}.json"
        entries: dict[str, dict] = {}
        reads: list[FileRead] = []
        unreadable: list[str] = []
        tmp = state.spool / f".{batch_file.name}.tmp"
        with tmp.open("wb") as out:
            copy = Copy(out, left_out, max_line_bytes)
            for path in files:
                try:
                    entries[str(path)], read = _read_source(path, committed, copy)
                except SpoolError as exc:  # the other files still load; this one is retried
                    _say(f"ERROR {exc}; left out of this run, tried again next run")
                    unreadable.append(str(path))
                    if str(path) in committed["files"]:
                        entries[str(path)] = committed["files"][str(path)]
                    continue
                if read:
                    reads.append(read)
            out.flush()
            os.fsync(out.fileno())
        summary = {**_summary(reads, len(files), left_out), "unreadable": unreadable}
        if summary["alerts"]:
            tmp.replace(batch_file)
        else:
            tmp.unlink()
        _sync_dir(state.spool)
        batch = {"id": batch_id, "job": asdict(job), "file": batch_file.name, **summary}
        pending = {"version": MANIFEST_VERSION, "files": entries, "batch": batch}
        _write_atomically(state.pending, json.dumps(pending, indent=1).encode())
    _report(reads, summary, state)
    return batch


@dataclass(frozen=True)
class Warehouse:
    """Where target-postgres loads tap-wazuh's alerts: `commit` checks the batch is there."""

    conninfo: str
    table: str = DEFAULT_TABLE
    source: str = "NIS2_PG_*"  # the settings it came from, for error messages

    @classmethod
    def from_env(cls) -> Warehouse:
        """target-postgres's own settings when set (its URL first, as it does), else NIS2_PG_*."""
        env = os.environ
        table = env.get(TABLE_ENV) or DEFAULT_TABLE
        if url := env.get("TARGET_POSTGRES_SQLALCHEMY_URL"):
            conninfo = re.sub(r"^postgres(?:ql)?\+\w+://", "postgresql://", url)
            return cls(conninfo, table, "TARGET_POSTGRES_SQLALCHEMY_URL")
        if env.get("TARGET_POSTGRES_HOST"):
            keys = {"host": "HOST", "port": "PORT", "user": "USER", "password": "PASSWORD"}
            keys["dbname"] = "DATABASE"
            parts = {k: env.get(f"TARGET_POSTGRES_{v}") for k, v in keys.items()}
            parts = {k: v for k, v in parts.items() if v}
            return cls(make_conninfo(**parts), table, "TARGET_POSTGRES_HOST, _PORT, _DATABASE, ...")
        return cls(PgSettings.from_env().conninfo(), table)

    def display(self) -> str:
        """Where it connects, without the password."""
        try:
            parts = conninfo_to_dict(self.conninfo)
        except psycopg.Error:
            return f"the connection in {self.source} (unreadable)"
        return (
            f"{parts.get('user', '')}@{parts.get('host', '')}:{parts.get('port', '')}/"
            f"{parts.get('dbname', '')} (from {self.source})"
        )

    def missing(self, ids: Sequence[str]) -> int:
        """How many of `ids` are not in the table: one anti-join over a temporary table."""
        schema, _, name = self.table.rpartition(".")
        table = sql.Identifier(schema, name) if schema else sql.Identifier(name)
        with psycopg.connect(self.conninfo, connect_timeout=30) as conn:
            conn.execute("create temporary table spooled (id text) on commit drop")
            with conn.cursor().copy("copy spooled (id) from stdin") as copy:
                for alert_id in ids:
                    copy.write_row((alert_id,))
            conn.execute("analyze spooled")
            # SSD-like page cost: probing the id index (target-postgres's key) beats hashing
            # a year of alerts (50k ids: 0.25 s, not 2.5 s, beside 2M rows); no index: a hash.
            conn.execute("set local random_page_cost = 1.1")
            query = sql.SQL(
                "select count(distinct s.id) from spooled s "
                "where not exists (select from {} t where t.id = s.id)"
            ).format(table)
            try:
                return conn.execute(query).fetchone()[0]
            except psycopg.errors.UndefinedTable:
                return len(set(ids))


def _spooled_ids(path: Path) -> list[str]:
    with path.open("rb") as handle:
        return [orjson.loads(line)["id"] for line in handle]


def _check_loaded(state: SpoolDir, batch: dict, warehouse: Warehouse) -> None:
    """Refuse to commit unless every alert of the batch is in the warehouse: a tap-wazuh
    reading another folder loads nothing, and a commit would then lose the batch."""
    if not batch.get("alerts"):
        return
    try:
        ids = _spooled_ids(state.batch_file(batch))
    except OSError as exc:
        raise SpoolError(
            f"the spool file of batch {batch.get('id')} is gone ({exc.strerror}); nothing "
            "marked loaded, the next run spools its lines again"
        ) from None
    try:
        missing = warehouse.missing(ids)
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SpoolError(
            f"cannot check batch {batch.get('id')} in the warehouse {warehouse.display()}: "
            f"{reason}. Nothing marked loaded; the next run spools the batch again"
        ) from None
    if missing:
        raise SpoolError(
            f"{missing:,} of {len(set(ids)):,} alerts of batch {batch.get('id')} are not in "
            f"{warehouse.table} ({warehouse.display()}): tap-wazuh did not load "
            f"{state.spool}/*.json. Set {TAP_PATH_SETTING} to {STATE_DIR_SETTING} + "
            "/spool/*.json, or look for rows the load dropped. Nothing marked loaded; the "
            "next run spools the batch again"
        )


def _summary(reads: list[FileRead], file_count: int, left_out: LeftOut) -> dict:
    return {
        "files": file_count,
        "files_read": len(reads),
        "offered": sum(r.lines for r in reads),
        "alerts": sum(r.alerts for r in reads),
        "left_out": dict(sorted(left_out.counts.items())),
        "left_out_lines": left_out.lines,
        "held_back": [{"file": str(r.path), "line": r.held_back} for r in reads if r.held_back],
    }


def _report(reads: list[FileRead], summary: dict, state: SpoolDir) -> None:
    for read in reads:
        if read.lines:
            last = read.first_line + read.lines - 1
            _say(
                f"  {read.path}: lines {read.first_line}-{last}, {read.alerts} alerts"
                f"{f', {read.left_out} left out' if read.left_out else ''}"
            )
        if read.held_back:
            _say(
                f"{read.path}:{read.held_back}: last line has no end-of-line yet "
                "(still being written); held back for the next run"
            )
    unreadable = len(summary["unreadable"])
    unchanged = summary["files"] - summary["files_read"] - unreadable
    reasons = ", ".join(f"{n:,} {reason}" for reason, n in summary["left_out"].items())
    left_out = sum(summary["left_out"].values())
    _say(
        f"spooled {summary['alerts']:,} new alerts from {summary['files_read']} of "
        f"{summary['files']} files ({unchanged} unchanged"
        f"{f'; {left_out:,} lines left out: {reasons}' if left_out else ''}"
        f"{f'; {unreadable} files unreadable' if unreadable else ''}) into {state.spool}"
    )


def ledger_entry(batch: dict, committed_at: datetime) -> dict:
    """One committed run for the reconciliation: offered = spooled + the sum of left_out."""
    left_out = batch.get("left_out")
    if left_out is None:  # a batch prepared by a version without reasons
        left_out = {"unclassified": len(batch.get("rejected", []))} if batch.get("rejected") else {}
    spooled = batch.get("alerts", 0)
    return {
        "committed_at": committed_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "offered": batch.get("offered", spooled + sum(left_out.values())),
        "spooled": spooled,
        "left_out": left_out,
        "left_out_lines": batch.get("left_out_lines", [])[:LEDGER_LINES],
    }


def _append_ledger(state: SpoolDir, batch: dict) -> None:
    line = json.dumps(ledger_entry(batch, datetime.now(UTC)), separators=(",", ":")) + "\n"
    with state.ledger.open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def commit(state: SpoolDir, warehouse: Warehouse, job: Job | None = None) -> dict | None:
    """Once every alert of the batch is in the warehouse, make the pending manifest the
    committed one, then empty the spool (crash-safe order)."""
    job = job or Job.current()
    with state.locked():
        if not state.pending.exists():
            _say("nothing to commit (no prepared batch)")
            state.clear_spool()
            return None
        batch = state.read_manifest(state.pending).get("batch", {})
        _holder_blocks(state, batch, job, "commit")
        _check_loaded(state, batch, warehouse)
        state.pending.replace(state.committed)  # the commit point: one atomic rename
        _sync_dir(state.root)
        state.clear_spool()
        _append_ledger(state, batch)
    _say(
        f"committed batch {batch.get('id')}: {batch.get('alerts', 0):,} alerts, all found in "
        f"{warehouse.table}; the next run reads on from there"
    )
    return batch


def reset(state: SpoolDir, job: Job | None = None) -> None:
    """Forget what was read: the next prepare spools every alert file from its start."""
    with state.locked():
        if state.pending.exists():
            batch = state.read_manifest(state.pending).get("batch", {})
            _holder_blocks(state, batch, job or Job.current(), "reset")
        state.clear_spool()
        state.pending.unlink(missing_ok=True)
        state.committed.unlink(missing_ok=True)
    _say(f"forgot the manifests in {state.root}: the next run reads every alert file again")


def status(state: SpoolDir) -> None:
    committed = state.read_manifest(state.committed)
    files = committed["files"]
    _say(
        f"{len(files)} files committed, {sum(e['lines'] for e in files.values()):,} lines "
        f"read in all (manifest {state.committed})"
    )
    if state.pending.exists():
        batch = state.read_manifest(state.pending).get("batch", {})
        holder = Job.from_record(batch.get("job"))
        running = holder.is_running() if holder else False
        owner = {True: "its job still runs", False: "its job is gone"}.get(running, "")
        _say(
            f"pending, not committed: batch {batch.get('id')}, {batch.get('alerts', 0):,} "
            f"alerts in {state.spool} ({owner or 'its job ran on another machine'})"
        )


def _sources_from_env() -> list[str]:
    text = os.environ.get(SOURCES_ENV, "").strip()
    if not text:
        return list(DEFAULT_SOURCES)
    if text.startswith("["):
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise SpoolError(f"{SOURCES_ENV} is not a JSON list of globs: {exc}") from exc
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SpoolError(f"{SOURCES_ENV} must be a JSON list of glob strings")
        return value
    return [text]


def _max_line_bytes(value: str | None) -> int:
    """The max_line_bytes setting: a whole number of bytes, at least 2 (default 1 MiB)."""
    text = (value if value is not None else os.environ.get(MAX_LINE_ENV, "")).strip()
    if not text:
        return DEFAULT_MAX_LINE_BYTES
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if limit < 2:
        raise SpoolError(f"{MAX_LINE_SETTING} must be a whole number of bytes, at least 2")
    return limit


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nis2-wazuh-spool", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get(STATE_DIR_ENV) or ROOT / "var" / "wazuh-spool"),
        help=f"manifests and spool (env {STATE_DIR_ENV}; default var/wazuh-spool)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="spool the alert lines not loaded yet")
    prep.add_argument(
        "--source",
        action="append",
        help=f"glob of alert files, repeatable (env {SOURCES_ENV}: JSON list; default Wazuh's)",
    )
    prep.add_argument(
        "--max-line-bytes",
        help=f"longer lines are left out, named (env {MAX_LINE_ENV}; default 1 MiB)",
    )
    sub.add_parser(
        "commit",
        help=f"after the load: check the batch is in the warehouse (target-postgres's "
        f"settings, else NIS2_PG_*; table: env {TABLE_ENV}), then remember it",
    )
    sub.add_parser("reset", help="forget what was loaded; the next run reads everything")
    sub.add_parser("status", help="what was committed and what is pending")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    state = SpoolDir(args.state_dir.resolve())
    try:
        if args.command == "prepare":
            limit = _max_line_bytes(args.max_line_bytes)
            prepare(state, args.source or _sources_from_env(), max_line_bytes=limit)
        elif args.command == "commit":
            commit(state, Warehouse.from_env())
        elif args.command == "reset":
            reset(state)
        else:
            status(state)
    except SpoolError as exc:
        _say(f"ERROR {exc}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
