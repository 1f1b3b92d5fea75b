"""`nis2-wazuh-spool`: hand tap-wazuh only the Wazuh alert lines it has not loaded yet.

tap-jsonl 0.3.1 reads N files N times and never skips an unchanged one (README, "Wazuh"), so
it must not see the manager's files directly. Run by Meltano around `tap-wazuh target-postgres`:

- `prepare` compares each alert file with the committed manifest, copies the new complete,
  valid lines to the spool (a bad line is named by file and line, never shown: it may hold
  personal data) and writes a pending manifest of what it copied;
- `commit`, after the load succeeded, renames the pending manifest over the committed one and
  empties the spool.

A failed or killed load never reaches `commit`, so the next `prepare` spools the same lines
again and target-postgres upserts them on the alert `id`: nothing lost, nothing duplicated.
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
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import orjson

from pipeline.settings import ROOT

DEFAULT_SOURCES = (
    "/var/ossec/logs/alerts/alerts.json",
    "/var/ossec/logs/alerts/*/*/ossec-alerts-*.json",
    "/var/ossec/logs/alerts/*/*/ossec-alerts-*.json.gz",
)
SOURCES_ENV = "NIS2_WAZUH_SOURCES"
STATE_DIR_ENV = "NIS2_WAZUH_STATE_DIR"
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

    @property
    def spool_file(self) -> Path:
        return self.spool / "alerts.json"

    @property
    def committed(self) -> Path:
        return self.root / "manifest.json"

    @property
    def pending(self) -> Path:
        return self.root / "manifest.pending.json"

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


def problem_with(line: bytes) -> str | None:
    """Why a line cannot be loaded as an alert, or None; never quotes the line."""
    try:
        alert = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return f"not valid JSON (column {exc.colno})"
    if not isinstance(alert, dict):
        return "not a JSON object"
    if not isinstance(alert.get("id"), str) or not alert["id"]:
        return 'no alert "id" (a non-empty string)'
    return None


@dataclass
class FileRead:
    """What one prepare took from one source file."""

    path: Path
    first_line: int  # 1-based number of the first line read this time
    lines: int = 0  # complete lines read (including blank and bad ones)
    alerts: int = 0
    rejected: list[int] = field(default_factory=list)
    held_back: int | None = None  # line number of an unfinished last line


def _head(handle: BinaryIO) -> str | None:
    """The identity of a file: the hash of its first complete line (None while unfinished)."""
    handle.seek(0)
    first = handle.readline()
    return _digest(first) if first.endswith(b"\n") else None


def _resume_point(handle: BinaryIO, head: str | None, candidates: list[dict]) -> tuple[int, int]:
    """(byte offset, lines) to go on from: a candidate with this head whose last committed
    bytes are still in place, else the start of the file."""
    for entry in candidates:
        if head is None or entry.get("head") != head:
            continue
        if _tail(handle, entry["offset"]) == entry["tail"]:
            return entry["offset"], entry["lines"]
    return 0, 0


def _copy_new_lines(handle: BinaryIO, read: FileRead, offset: int, out: BinaryIO) -> int:
    """Copy the complete, valid lines after `offset` to `out`; return the offset reached."""
    handle.seek(offset)
    for raw in handle:
        if not raw.endswith(b"\n"):
            read.held_back = read.first_line + read.lines
            break
        read.lines += 1
        offset += len(raw)
        if not raw.strip():
            continue
        if problem := problem_with(raw):
            line_no = read.first_line + read.lines - 1
            read.rejected.append(line_no)
            _say(f"{read.path}:{line_no}: {problem}; line left out")
            continue
        out.write(raw)
        read.alerts += 1
    return offset


def _tail(handle: BinaryIO, offset: int) -> str:
    """The hash of the bytes just before `offset`: a resume needs them unchanged."""
    start = max(0, offset - TAIL_BYTES)
    handle.seek(start)
    return _digest(handle.read(offset - start))


def _read_source(path: Path, committed: dict, out: BinaryIO) -> tuple[dict, FileRead | None]:
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
            head = _head(handle)
            offset, lines = _resume_point(handle, head, [e for e in (own, *others) if e])
            read = FileRead(path, first_line=lines + 1)
            new_offset = _copy_new_lines(handle, read, offset, out)
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


def prepare(state: SpoolDir, patterns: list[str]) -> dict:
    """Spool every new line since the committed manifest; write the pending manifest."""
    with state.locked():
        if state.pending.exists():
            _say("an earlier batch was never committed (its load failed): spooling it again")
            state.pending.unlink()
        state.clear_spool()
        committed = state.read_manifest(state.committed)
        files = source_files(patterns)
        entries: dict[str, dict] = {}
        reads: list[FileRead] = []
        unreadable: list[str] = []
        tmp = state.spool / ".alerts.json.tmp"
        with tmp.open("wb") as out:
            for path in files:
                try:
                    entries[str(path)], read = _read_source(path, committed, out)
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
        summary = {**_summary(reads, len(files)), "unreadable": unreadable}
        if summary["alerts"]:
            tmp.replace(state.spool_file)
        else:
            tmp.unlink()
        _sync_dir(state.spool)
        pending = {"version": MANIFEST_VERSION, "files": entries, "batch": summary}
        _write_atomically(state.pending, json.dumps(pending, indent=1).encode())
    _report(reads, summary, state)
    return summary


def _summary(reads: list[FileRead], file_count: int) -> dict:
    return {
        "files": file_count,
        "files_read": len(reads),
        "alerts": sum(r.alerts for r in reads),
        "rejected": [{"file": str(r.path), "line": n} for r in reads for n in r.rejected],
        "held_back": [{"file": str(r.path), "line": r.held_back} for r in reads if r.held_back],
    }


def _report(reads: list[FileRead], summary: dict, state: SpoolDir) -> None:
    for read in reads:
        if read.lines:
            last = read.first_line + read.lines - 1
            _say(f"  {read.path}: lines {read.first_line}-{last}, {read.alerts} alerts")
        if read.held_back:
            _say(
                f"{read.path}:{read.held_back}: last line has no end-of-line yet "
                "(still being written); held back for the next run"
            )
    rejected, unreadable = len(summary["rejected"]), len(summary["unreadable"])
    unchanged = summary["files"] - summary["files_read"] - unreadable
    _say(
        f"spooled {summary['alerts']:,} new alerts from {summary['files_read']} of "
        f"{summary['files']} files ({unchanged} unchanged"
        f"{f'; {rejected} bad lines left out' if rejected else ''}"
        f"{f'; {unreadable} files unreadable' if unreadable else ''}) into {state.spool}"
    )


def commit(state: SpoolDir) -> dict | None:
    """Make the pending manifest the committed one, then empty the spool (crash-safe order)."""
    with state.locked():
        if not state.pending.exists():
            _say("nothing to commit (no prepared batch)")
            state.clear_spool()
            return None
        batch = state.read_manifest(state.pending).get("batch", {})
        state.pending.replace(state.committed)  # the commit point: one atomic rename
        _sync_dir(state.root)
        state.clear_spool()
    _say(f"committed {batch.get('alerts', 0):,} alerts; the next run reads on from there")
    return batch


def reset(state: SpoolDir) -> None:
    """Forget what was read: the next prepare spools every alert file from its start."""
    with state.locked():
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
        _say(f"pending, not committed: {batch.get('alerts', 0):,} alerts in {state.spool}")


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
    sub.add_parser("commit", help="after a successful load: remember what was loaded")
    sub.add_parser("reset", help="forget what was loaded; the next run reads everything")
    sub.add_parser("status", help="what was committed and what is pending")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    state = SpoolDir(args.state_dir.resolve())
    try:
        if args.command == "prepare":
            prepare(state, args.source or _sources_from_env())
        elif args.command == "commit":
            commit(state)
        elif args.command == "reset":
            reset(state)
        else:
            status(state)
    except SpoolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
