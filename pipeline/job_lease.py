"""One pipeline job at a time on a warehouse (README "Jobs never overlap").

The daily job, the monitor and the log verification all move the Wazuh spool and build the
same dbt tables; two at once could interleave the spool's file moves or collide in a build.
Meltano runs a job's tasks one after the other in one `meltano run` process, so each job's
first task takes a lease and its last task gives it back: `nis2-pipeline lease acquire <job>`
and `nis2-pipeline lease release`. The lease is one row in the warehouse
(nis2_ops.job_lease), held by the `meltano run` process (the task's parent), so:

- a second job waits for it (polling), then fails naming the holder and since when, before it
  has touched anything;
- a job that failed or was killed never ran its release: its lease is taken over as soon as
  its process is gone (same host: /proc, with the process start time against PID reuse), or
  after its expiry (another host, or a hung job).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg

DDL = """
create schema if not exists nis2_ops;
create table if not exists nis2_ops.job_lease (
    lease text primary key,
    job text,
    holder_host text,
    holder_pid integer,
    holder_started text,
    acquired_at timestamptz,
    expires_at timestamptz
);
insert into nis2_ops.job_lease (lease) values ('pipeline') on conflict do nothing;
"""
DDL_LOCK = 7_160_019  # advisory lock: one session creates the table at a time


class LeaseBusyError(RuntimeError):
    """Another job held the lease for longer than this one would wait."""


@dataclass(frozen=True)
class Holder:
    job: str | None
    host: str | None
    pid: int | None
    started: str | None
    acquired_at: datetime | None
    expires_at: datetime | None


def process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc/<pid>/stat field 22), or None
    when no such process runs here."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _holder(conn: psycopg.Connection) -> Holder:
    row = conn.execute(
        "select job, holder_host, holder_pid, holder_started, acquired_at, expires_at "
        "from nis2_ops.job_lease where lease = 'pipeline' for update"
    ).fetchone()
    return Holder(*row)


def _is_free(holder: Holder, now: datetime, host: str) -> bool:
    if holder.job is None:
        return True
    if holder.expires_at is not None and holder.expires_at <= now:
        return True  # expired: a job on another host, or hung past its limit
    if holder.host == host and holder.pid is not None:
        return process_start(holder.pid) != holder.started  # gone (or its PID reused)
    return False


def _describe(holder: Holder) -> str:
    return (
        f"{holder.job} (meltano process {holder.pid} on {holder.host}, since "
        f"{holder.acquired_at:%Y-%m-%d %H:%M:%S %Z}, lease expires "
        f"{holder.expires_at:%Y-%m-%d %H:%M:%S %Z})"
    )


def acquire(
    conninfo: str,
    job: str,
    holder_pid: int,
    wait_seconds: float,
    max_hours: float,
    poll_seconds: float = 2.0,
) -> str | None:
    """Take the lease for `job`, held by process `holder_pid`; wait up to `wait_seconds` for the
    job holding it. Returns a note when a stale lease was taken over, else None."""
    host = socket.gethostname()
    started = process_start(holder_pid)
    deadline = time.monotonic() + wait_seconds
    with psycopg.connect(conninfo, connect_timeout=30) as conn:
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(%s)", (DDL_LOCK,))
            conn.execute(DDL)
        while True:
            with conn.transaction():
                now = conn.execute("select now()").fetchone()[0]
                holder = _holder(conn)
                if _is_free(holder, now, host):
                    conn.execute(
                        "update nis2_ops.job_lease set job = %s, holder_host = %s, "
                        "holder_pid = %s, holder_started = %s, acquired_at = now(), "
                        "expires_at = now() + make_interval(secs => %s) where lease = 'pipeline'",
                        (job, host, holder_pid, started, max_hours * 3600),
                    )
                    if holder.job is None:
                        return None
                    return (
                        f"took over the lease left by {_describe(holder)}: that job ended "
                        "without releasing it"
                    )
            if time.monotonic() >= deadline:
                raise LeaseBusyError(
                    f"{job} did not start: {_describe(holder)} is running, waited "
                    f"{wait_seconds:.0f} s. Jobs on one warehouse never overlap "
                    "(README 'Jobs never overlap')."
                )
            time.sleep(poll_seconds)


def release(conninfo: str, holder_pid: int) -> str | None:
    """Give the lease back if process `holder_pid` holds it; returns the job it held."""
    with psycopg.connect(conninfo, connect_timeout=30) as conn, conn.transaction():
        if conn.execute("select to_regclass('nis2_ops.job_lease')").fetchone()[0] is None:
            return None
        holder = _holder(conn)
        if (holder.host, holder.pid) != (socket.gethostname(), holder_pid):
            return None
        conn.execute(
            "update nis2_ops.job_lease set job = null, holder_host = null, holder_pid = null, "
            "holder_started = null, acquired_at = null, expires_at = null "
            "where lease = 'pipeline'"
        )
    return holder.job


def main(argv: list[str] | None = None) -> int:
    from pipeline.wazuh_spool import Warehouse

    parser = argparse.ArgumentParser(prog="nis2-pipeline lease", description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    take = sub.add_parser("acquire", help="take the lease for a job (its first task)")
    take.add_argument("job", help="the job's name, shown to the jobs that wait")
    take.add_argument("--wait-minutes", type=float, default=30.0)
    take.add_argument("--max-hours", type=float, default=6.0, help="the lease's expiry")
    sub.add_parser("release", help="give the lease back (the job's last task)")
    args = parser.parse_args(argv)
    warehouse = Warehouse.from_env()  # as target-postgres reaches it
    conninfo, where = warehouse.conninfo, warehouse.display()
    holder = os.getppid()  # the `meltano run` process that runs every task of the job
    try:
        if args.action == "acquire":
            note = acquire(conninfo, args.job, holder, args.wait_minutes * 60, args.max_hours)
            print(f"lease: {args.job} holds the pipeline lease on {where}", flush=True)
            if note:
                print(f"lease: {note}", flush=True)
        else:
            job = release(conninfo, holder)
            print(f"lease: {job or 'this job'} released the pipeline lease on {where}")
    except LeaseBusyError as exc:
        print(f"lease: {exc}", file=sys.stderr)
        return 3
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"lease: ERROR on the warehouse {where}: {first}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
