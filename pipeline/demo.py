"""`make demo`: the whole NIS2 pipeline on the simulated organisation, end to end.

Steps: embedded Postgres -> simulated organisation (extended to "now", so a second run
sees only what is new) -> Keycloak stand-in database -> Didit API simulator -> Meltano
plugins -> `meltano run` of the daily job -> summary of what landed where.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from nis2_settings import Paths, PgSettings, SettingsError, simulator_port
from pipeline import dashboards, meltano, warehouse
from pipeline.postgres import EmbeddedPostgres, ensure_database
from report.period import last_full_month
from report.signing import ensure_demo_keys

KEYCLOAK_READER = "keycloak_reader"
# Demo-only password of the read-only role on the Keycloak stand-in (not a secret anywhere else).
KEYCLOAK_READER_PASSWORD = "keycloak-reader-demo"  # noqa: S105


@dataclass(frozen=True)
class DemoOptions:
    seed: int = 7
    days: int = 365
    api_calls_per_day: int = 60
    job: str = "nis2-daily"
    end: datetime | None = None


class Progress:
    """Numbered steps with elapsed time, so a long run never looks stuck."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.step = 0
        self.started = time.monotonic()

    @contextmanager
    def __call__(self, title: str) -> Iterator[list[str]]:
        self.step += 1
        print(f"[{self.step}/{self.total}] {title} ...", flush=True)
        notes: list[str] = []
        t0 = time.monotonic()
        yield notes
        detail = f" ({'; '.join(notes)})" if notes else ""
        print(f"[{self.step}/{self.total}] {title}: done in {time.monotonic() - t0:.1f}s{detail}")


def start_postgres(paths: Paths, pg: PgSettings) -> str:
    """Start (or reuse) the embedded server unless the user brings their own."""
    if not pg.embedded:
        return f"using your server at {pg.display()}"
    server = EmbeddedPostgres(paths.pg, pg.port, pg.host)
    was_running = server.is_running()
    server.start()
    return "reused the running server" if was_running else "started"


def prepare_databases(pg: PgSettings) -> None:
    admin = pg.conninfo("postgres")
    try:
        ensure_database(admin, pg.warehouse_db)
        ensure_database(admin, pg.keycloak_db)
    except psycopg.OperationalError as exc:
        raise SettingsError(
            f"Cannot reach Postgres at {pg.display('postgres')}: check NIS2_PG_HOST, "
            "NIS2_PG_PORT, NIS2_PG_USER and NIS2_PG_PASSWORD (and that the server runs)."
        ) from exc


def load_keycloak(paths: Paths, pg: PgSettings) -> dict[str, int]:
    """Fill the Keycloak stand-in and give tap-keycloak a read-only role, as in production."""
    from simulator.keycloak_db import load_keycloak as load

    counts = load(pg.conninfo(pg.keycloak_db), paths.org / "keycloak")
    warehouse.grant_read_only(
        pg.conninfo(pg.keycloak_db), KEYCLOAK_READER, KEYCLOAK_READER_PASSWORD, "public"
    )
    return counts


def generate_org(paths: Paths, options: DemoOptions) -> Path:
    from simulator.world import generate_world

    generate_world(
        paths.org,
        seed=options.seed,
        days=options.days,
        api_calls_per_day=options.api_calls_per_day,
        end=options.end,
    )
    return paths.org


def organisation_ids(paths: Paths) -> dict[str, str]:
    """Org and application ids of the simulated organisation, for the tap's Console routes."""
    meta = json.loads((paths.org / "didit" / "organisation.json").read_text())
    return {
        "TAP_DIDIT_ORGANIZATION_ID": str(meta["organization_id"]),
        "TAP_DIDIT_APPLICATION_ID": str(meta["application_id"]),
    }


def run_demo(options: DemoOptions) -> int:
    from simulator.didit_api import start_server

    paths = Paths.from_env()
    pg = PgSettings.from_env()
    options = replace(options, end=options.end or datetime.now(UTC))
    progress = Progress(total=8 if dashboards.enabled() else 7)
    started = time.monotonic()

    with progress("PostgreSQL") as notes:
        notes.append(start_postgres(paths, pg))
        prepare_databases(pg)
    with progress("Simulated organisation") as notes:
        generate_org(paths, options)
        notes.append(f"seed {options.seed}, {options.days} days, in {paths.org}")
    with progress("Keycloak stand-in database") as notes:
        counts = load_keycloak(paths, pg)
        notes.append(", ".join(f"{table} {n}" for table, n in sorted(counts.items())))
    # meltano.yml's demo environment signs the evidence pack with these (made once)
    signing_keys = ensure_demo_keys(paths.var / "keys")
    port = simulator_port()
    try:
        server = start_server(data_dir=paths.org / "didit", port=port, rate_limit=False)
    except OSError as exc:
        raise SettingsError(
            f"The Didit simulator cannot listen on 127.0.0.1:{port} ({exc.strerror}); "
            "choose another port with DIDIT_SIM_PORT=<port>."
        ) from exc
    try:
        with progress(f"Didit API simulator on {server.base_url}"):
            pass
        env = meltano.pipeline_env(
            pg,
            paths.var,
            extra={
                "DIDIT_SIM_PORT": str(port),
                "NIS2_KEYCLOAK_READER_PASSWORD": KEYCLOAK_READER_PASSWORD,
                "NIS2_REPORT_PERIOD": last_full_month(options.end),
                "NIS2_AS_OF": options.end.astimezone(UTC).isoformat(),
                **organisation_ids(paths),
            },
        )
        with progress("Meltano plugins") as notes:
            notes.append("installed" if meltano.ensure_installed(env, paths.logs) else "up to date")
        log_path = paths.logs / f"meltano-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.log"
        with progress(f"meltano run {options.job}") as notes:
            meltano.run_logged(["run", options.job], env, log_path)
            notes.append(f"log: {log_path}")
        # the scheduled verification (meltano.yml), once, so the demo shows the raw logs still
        # hash to what was sealed
        verify_log = log_path.with_name(log_path.stem + "-verify-logs.log")
        with progress("meltano run nis2-verify-logs") as notes:
            meltano.run_logged(["run", "nis2-verify-logs"], env, verify_log)
            notes.append("every sealed day re-hashed from the raw tables: unchanged")
    finally:
        server.stop()
    board = None
    if dashboards.enabled():  # pipeline/dashboards.py; README "Dashboards"
        with progress("Dashboards (Superset)") as notes:
            conninfo = pg.conninfo()
            board = dashboards.start_demo(conninfo, paths, env, warehouse.mart_schemas(conninfo))
            notes.append(board.url)

    print()
    print(warehouse.summary(pg, paths))
    if board:
        print(
            f"\nDashboards: {board.url} (demo login {board.username} / {board.password}; "
            "`make stop` stops them)"
        )
    print(
        f"\nEvidence pack signing (demo keys, {'made now' if signing_keys.created else 'reused'}"
        f" in {signing_keys.folder}): private key {signing_keys.key.name} (keep it private), "
        f"public key {signing_keys.public_key.name}, self-signed certificate "
        f"{signing_keys.certificate.name}.\nCheck a pack: nis2-report verify --public-key "
        f"{signing_keys.public_key} <pack folder>"
    )
    print(f"\nWhole run: {time.monotonic() - started:.1f}s")
    return 0
