"""Run Meltano as a subprocess with the environment the project's meltano.yml expects."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from nis2_settings import ROOT, PgSettings

# Telemetry and version checks off: nothing but loopback and the package registries.
QUIET_ENV = {
    "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
    "MELTANO_DISABLE_TRACKING": "true",
    "MELTANO_CLI_DISABLE_VERSION_CHECK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DO_NOT_TRACK": "1",
}


class MeltanoError(RuntimeError):
    """A Meltano command failed; its own output was already streamed to the user."""


def _bin_dir() -> Path:
    return Path(sys.executable).parent


def _without(path: str, folder: Path) -> str:
    """PATH without `folder` (an activated venv), so nothing resolves from it by accident."""
    kept = [p for p in path.split(os.pathsep) if p and Path(p).resolve() != folder.resolve()]
    return os.pathsep.join(kept)


def pipeline_env(
    pg: PgSettings,
    var_dir: Path,
    extra: Mapping[str, str] | None = None,
    environment: str = "demo",
) -> dict[str, str]:
    """The variables meltano.yml's demo environment reads, on top of the caller's own."""
    env = dict(os.environ)
    env.update(QUIET_ENV)
    env.update(
        {
            "MELTANO_ENVIRONMENT": environment,
            "NIS2_VAR_DIR": str(var_dir),
            "NIS2_PG_HOST": pg.host,
            "NIS2_PG_PORT": str(pg.port),
            "NIS2_PG_USER": pg.user,
            "NIS2_PG_DATABASE": pg.warehouse_db,
            "NIS2_KEYCLOAK_DATABASE": pg.keycloak_db,
            # Every plugin, the project's own utilities included, runs from the venv that
            # `meltano install` made for it, as in production: never from this venv's PATH.
            "PATH": _without(env.get("PATH", ""), _bin_dir()),
        }
    )
    # target-postgres insists on a password with host/user/port, so it gets a URL (quoted).
    env.setdefault("TARGET_POSTGRES_SQLALCHEMY_URL", pg.sqlalchemy_url())
    if pg.password:
        env.setdefault("DBT_POSTGRES_PASSWORD", pg.password)
    env.update(extra or {})
    return env


# Lines of Meltano's log worth showing while a long job runs; everything goes to the log file.
_ECHO = re.compile(
    r"Running job with name|\[error|\[warning +\] meltano|Done\. PASS=|No files found|"
    r"incident register:|reconcile:|Skipping invalid JSON|target-postgres +METRIC.*record_count|"
    r"wazuh-spool: (spooled|committed|ERROR|.*left out|.*held back)|"
    r"tap-keycloak: (WARNING|ERROR)"
)
_JOB_NAME = re.compile(r"Running job with name '[^:']*:?([^']*)'")
_LOADED = re.compile(r'"value":(\d+),"tags":\{"stream":"([^"]+)"')


def _condensed(line: str) -> str | None:
    """A short progress line for the terminal, or None to keep the line in the log only."""
    if not _ECHO.search(line):
        return None
    job = _JOB_NAME.search(line)
    if job:
        return f"    {job.group(1).replace('-to-', ' -> ')}"
    loaded = _LOADED.search(line)
    if loaded:
        return f"      {loaded.group(2)}: {int(loaded.group(1)):,} rows loaded"
    text = line.split("] ", 1)[-1].strip()
    return f"      {text[:160]}"


def run_logged(args: list[str], env: Mapping[str, str], log_path: Path) -> None:
    """Run `meltano <args>`, keep its full log in `log_path`, show condensed progress."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(meltano_bin()), *args]
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=dict(env),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            short = _condensed(line)
            if short:
                print(short, flush=True)
        proc.wait()
    if proc.returncode != 0:
        raise MeltanoError(
            f"`meltano {' '.join(args)}` failed (exit {proc.returncode}); full log: {log_path}"
        )


def _install_fingerprint() -> str:
    """Changes when a plugin definition or the tap's dependencies change."""
    digest = hashlib.sha256(b"bytecode-compiled")  # installs from before that re-run once
    for path in (
        ROOT / "meltano.yml",
        ROOT / "pyproject.toml",
        ROOT / "tap-didit" / "pyproject.toml",
    ):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def meltano_bin() -> Path:
    """The `meltano` of this virtualenv (the one `make install` filled)."""
    return _bin_dir() / "meltano"


def ensure_installed(env: Mapping[str, str], log_dir: Path) -> bool:
    """`meltano install` once per plugin-definition change; returns whether it ran."""
    stamp = ROOT / ".meltano" / "nis2-install.sha256"
    fingerprint = _install_fingerprint()
    if stamp.exists() and stamp.read_text() == fingerprint:
        return False
    # Meltano installs with uv, which writes no bytecode unless asked: every later start of a
    # plugin then compiled its sources again (dbt: 5.2 s to import instead of 3.0 s).
    run_logged(["install"], {**env, "UV_COMPILE_BYTECODE": "1"}, log_dir / "meltano-install.log")
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fingerprint)
    return True
