"""Fixtures for the dbt project's tests: a dbt runner aimed at the warehouse of the session's
real pipeline run (tests/conftest.py), so every check reads data the taps actually loaded."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from nis2_settings import ROOT

TRANSFORM = ROOT / "transform"
# A key for the test's own dbt invocations; the demo job uses the one in meltano.yml.
TEST_PSEUDONYM_KEY = "transform-tests-pseudonym-key"


def dbt_executable() -> Path:
    """dbt as Meltano installs it for the pipeline, or a developer's own (DBT_BIN)."""
    candidates = [
        os.environ.get("DBT_BIN"),
        ROOT / ".meltano" / "utilities" / "dbt-postgres" / "venv" / "bin" / "dbt",
        ROOT / "var" / "dbt-venv" / "bin" / "dbt",
        shutil.which("dbt"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return Path(candidate)
    raise RuntimeError("dbt not found: run `make demo` (Meltano installs it) or set DBT_BIN")


DbtRunner = Callable[..., subprocess.CompletedProcess]


def dbt_env(
    conninfo: str, work: Path, pg_options: str, dbname: str = "warehouse", schema: str | None = None
) -> dict[str, str]:
    """Environment for dbt aimed at the server of `conninfo`, with target and logs under `work`,
    the pseudonym key in `pg_options`, and an optional schema prefix of its own."""
    env = {
        **os.environ,
        "DBT_POSTGRES_HOST": "127.0.0.1",
        "DBT_POSTGRES_PORT": conninfo.split("port=")[1].split()[0],
        "DBT_POSTGRES_USER": "postgres",
        "DBT_POSTGRES_DBNAME": dbname,
        "DBT_TARGET": "ci",
        "DBT_PROFILES_DIR": str(TRANSFORM / "profiles"),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
        "PGOPTIONS": pg_options,
    }
    if schema:
        env["DBT_POSTGRES_SCHEMA"] = schema
    return env


@pytest.fixture(scope="session")
def dbt(pipeline_run, tmp_path_factory) -> DbtRunner:
    """Run a dbt command against the pipeline run's warehouse; returns the finished process."""
    work = tmp_path_factory.mktemp("dbt")
    env = dbt_env(pipeline_run.conninfo, work, f"-c nis2.pseudonym_key={TEST_PSEUDONYM_KEY}")
    executable = dbt_executable()

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(executable), *args, "--project-dir", str(TRANSFORM)],
            cwd=TRANSFORM,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )

    run.target_path = work / "target"  # type: ignore[attr-defined]
    return run
