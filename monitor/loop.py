"""`nis2-monitor loop`: the monitoring job every --interval seconds, for the demo (production
uses the schedule in meltano.yml). Each cycle prints its duration and exit code; a failed
cycle is named and the loop goes on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from nis2_settings import ROOT, Paths, PgSettings, simulator_port

QUIET_ENV = {
    "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
    "MELTANO_DISABLE_TRACKING": "true",
    "MELTANO_CLI_DISABLE_VERSION_CHECK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DO_NOT_TRACK": "1",
}
# pipeline/demo.py's read-only role on the Keycloak stand-in (a demo value, not a secret)
DEMO_KEYCLOAK_READER_PASSWORD = "keycloak-reader-demo"  # noqa: S105


def demo_env() -> dict[str, str]:
    """What `make demo` (pipeline/meltano.py pipeline_env) gives Meltano, for a live monitor."""
    paths, pg = Paths.from_env(), PgSettings.from_env()
    meta = json.loads((paths.org / "didit" / "organisation.json").read_text())
    bin_dir = Path(sys.executable).parent.resolve()
    path = [
        p
        for p in os.environ.get("PATH", "").split(os.pathsep)
        if p and Path(p).resolve() != bin_dir
    ]
    env = {
        "MELTANO_ENVIRONMENT": "demo",
        "NIS2_VAR_DIR": str(paths.var),
        "NIS2_PG_HOST": pg.host,
        "NIS2_PG_PORT": str(pg.port),
        "NIS2_PG_USER": pg.user,
        "NIS2_PG_DATABASE": pg.warehouse_db,
        "NIS2_KEYCLOAK_DATABASE": pg.keycloak_db,
        "NIS2_KEYCLOAK_READER_PASSWORD": DEMO_KEYCLOAK_READER_PASSWORD,
        "DIDIT_SIM_PORT": str(simulator_port()),
        "TAP_DIDIT_ORGANIZATION_ID": str(meta["organization_id"]),
        "TAP_DIDIT_APPLICATION_ID": str(meta["application_id"]),
        "TARGET_POSTGRES_SQLALCHEMY_URL": pg.sqlalchemy_url(),
        "NIS2_AS_OF": "",  # live: the database's now()
        "PATH": os.pathsep.join(path),
    }
    return env


def loop(job: str, interval: float, cycles: int, demo: bool) -> int:
    env = {**os.environ, **QUIET_ENV, **(demo_env() if demo else {})}
    meltano = Path(sys.executable).parent / "meltano"
    n = failed = 0
    while not cycles or n < cycles:
        n += 1
        started = time.monotonic()
        code = subprocess.run([str(meltano), "run", job], cwd=ROOT, env=env, check=False)
        took = time.monotonic() - started
        failed += code.returncode != 0
        print(
            f"nis2-monitor loop: cycle {n} {'ok' if code.returncode == 0 else 'FAILED'} "
            f"(exit {code.returncode}) in {took:.1f}s",
            file=sys.stderr,
            flush=True,
        )
        if cycles and n >= cycles:
            break
        time.sleep(max(0.0, interval - took))
    return 1 if failed else 0
