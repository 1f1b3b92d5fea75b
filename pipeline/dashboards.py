"""The NIS2 dashboards (Apache Superset, Meltano utility `superset`): the demo's glue.

The demo (`nis2-pipeline demo`) calls `start_demo` after the daily job: it gives Superset a
read-only warehouse role, makes Superset's SECRET_KEY once (var/superset/secret_key), runs
`meltano invoke superset:provision` (dashboards/provision.py: metadata DB, admin login, the
files of dashboards/bundle) and `superset:serve` (gunicorn in the background), and waits until
it answers. `nis2-pipeline stop` stops it (`stop`). README, "Dashboards".
"""

from __future__ import annotations

import os
import secrets
import signal
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from nis2_settings import ROOT, Paths
from pipeline import meltano

ROLE = "nis2_dashboards"
# The one intermediate model the forensic view reads (events across sources, one row each); a
# view, so the role reads it without any right on the staging and raw tables underneath.
FORENSIC_VIEW = ("analytics_intermediate", "int_security_events_unified")
STARTUP_SECONDS = 300  # gunicorn imports Superset in each worker: 20-60 s on two shared cores


class DashboardsError(meltano.MeltanoError):
    """Superset could not be provisioned or started; the message says where the log is."""


@dataclass(frozen=True)
class Dashboards:
    url: str
    username: str
    password: str
    state_dir: Path


def enabled() -> bool:
    """Whether the demo starts the dashboards (default on); NIS2_DEMO_DASHBOARDS=off skips them
    (the test session's demo runs set it: tests/dashboards provisions its own Superset)."""
    value = os.environ.get("NIS2_DEMO_DASHBOARDS", "on")
    return value.strip().lower() not in {"0", "off", "false", "no"}


def demo_settings(meltano_yml: Path = ROOT / "meltano.yml") -> dict[str, object]:
    """The `superset` plugin's config in meltano.yml's demo environment (the demo login)."""
    import yaml  # the demo's venv has it; the plugins' core venvs (pipeline.cli) need not

    project = yaml.safe_load(meltano_yml.read_text())
    demo = next(e for e in project["environments"] if e["name"] == "demo")
    utilities = demo["config"]["plugins"]["utilities"]
    return dict(next(u for u in utilities if u["name"] == "superset-dashboards")["config"])


def grant_read_only(
    conninfo: str,
    password: str,
    mart_schemas: list[str],
    forensic_view: tuple[str, str] = FORENSIC_VIEW,
    role: str = ROLE,
) -> None:
    """A login role that can read the marts (and the forensic view), nothing else, ever.

    dbt re-creates its tables on every build, so the marts' grant is also a default privilege
    of the schema (for the tables the connecting role creates there later); the forensic view
    is granted by name, and again by every provisioning (dbt re-creates views as well).
    """
    with psycopg.connect(conninfo, autocommit=True) as conn:
        ident = sql.Identifier(role)
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
        verb = "alter" if exists else "create"
        conn.execute(
            sql.SQL(verb + " role {} login nosuperuser nocreatedb nocreaterole password {}").format(
                ident, sql.Literal(password)
            )
        )
        conn.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(ident))
        for schema in mart_schemas:
            schema_ident = sql.Identifier(schema)
            conn.execute(sql.SQL("grant usage on schema {} to {}").format(schema_ident, ident))
            conn.execute(
                sql.SQL("grant select on all tables in schema {} to {}").format(schema_ident, ident)
            )
            conn.execute(
                sql.SQL(
                    "alter default privileges in schema {} grant select on tables to {}"
                ).format(schema_ident, ident)
            )
        schema, view = forensic_view
        conn.execute(
            sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(schema), ident)
        )
        conn.execute(
            sql.SQL("grant select on {}.{} to {}").format(
                sql.Identifier(schema), sql.Identifier(view), ident
            )
        )


def ensure_secret_key(state_dir: Path) -> str:
    """Superset's SECRET_KEY for the demo: made once, kept private under var/superset."""
    path = state_dir / "secret_key"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _pid_file(state_dir: Path) -> Path:
    return state_dir / "superset.pid"


def running_pid(state_dir: Path) -> int | None:
    """The pid of the gunicorn this project started for `state_dir`, if it still runs."""
    try:
        pid = int(_pid_file(state_dir).read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (OSError, ValueError):
        return None
    # a recycled pid is not ours: the master's command line names gunicorn and our pid file
    return pid if "gunicorn" in cmdline and str(_pid_file(state_dir)) in cmdline else None


def stop(state_dir: Path, timeout: float = 30) -> bool:
    """Stop the gunicorn started for `state_dir` (by its pid); whether one was running."""
    pid = running_pid(state_dir)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.2)
    return True


def wait_until_healthy(url: str, state_dir: Path, timeout: float = STARTUP_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}health", timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        if running_pid(state_dir) is None and _pid_file(state_dir).exists():
            break
        time.sleep(1)
    raise DashboardsError(f"Superset did not answer on {url}; log: {state_dir / 'superset.log'}")


def provision_and_serve(env: Mapping[str, str], log_dir: Path) -> None:
    """`superset-dashboards:start`: provision, then serve unless it runs (it re-reads the DB)."""
    try:
        meltano.run_logged(
            ["invoke", "superset-dashboards:start"], env, log_dir / "superset-start.log"
        )
    except meltano.MeltanoError as exc:
        raise DashboardsError(str(exc)) from exc


def start_demo(
    conninfo: str, paths: Paths, env: Mapping[str, str], mart_schemas: list[str]
) -> Dashboards:
    """Everything `make demo` needs for the dashboards; returns where to log in."""
    settings = demo_settings()
    state_dir = paths.var / "superset"
    # SUPERSET_DASHBOARDS_PORT overrides meltano.yml (Meltano reads <plugin>_<setting>)
    port = int(os.environ.get("SUPERSET_DASHBOARDS_PORT", str(settings["port"])))
    grant_read_only(conninfo, str(settings["warehouse_password"]), mart_schemas)
    env = {
        **env,
        "SUPERSET_DASHBOARDS_SECRET_KEY": ensure_secret_key(state_dir),
        "SUPERSET_DASHBOARDS_PORT": str(port),
    }
    provision_and_serve(env, paths.logs)
    url = f"http://127.0.0.1:{port}/"
    wait_until_healthy(url, state_dir)
    return Dashboards(
        url=url,
        username=str(settings["admin_username"]),
        password=str(settings["admin_password"]),
        state_dir=state_dir,
    )
