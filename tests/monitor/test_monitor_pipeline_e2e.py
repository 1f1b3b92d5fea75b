"""The monitoring job, really run (issue 19): `meltano run nis2-monitor` (meltano.yml: the event
taps, the Wazuh spool, `dbt-postgres:monitor`, `nis2-alerts:deliver`) turns a live Console brute
force in the Didit simulator into exactly one alert at a local webhook receiver, and a second
run with nothing new sends nothing it already sent.

Everything happens on copies of what the session's `pipeline_run` made: the warehouse
(`create database ... template warehouse`), the simulated world (`org/`), Meltano's state
(`meltano.db`) and the Wazuh spool. The pipeline, report and transform tests compare the
session's warehouse with the simulator's store, so neither may change; the test checks they
did not. The job gets the settings `nis2-monitor loop --demo` gives it (monitor.loop.demo_env),
with NIS2_VAR_DIR, NIS2_PG_DATABASE and DIDIT_SIM_PORT pointing at the copies.

A finding source's first collection is its baseline (README "Monitoring and alerts"): the
job's last step, `nis2-monitor run`, records it on the copy before the attack, as the first
cycle of the live demo does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest

from monitor.loop import QUIET_ENV, demo_env
from monitor.sources import load_sources
from nis2_settings import ROOT
from pipeline.meltano import meltano_bin
from report.pseudonyms import pseudonym
from simulator.live_attack import ATTACK_IP
from tests.conftest import TEST_PG_PORT, PipelineRun, raw_counts
from tests.transform.test_incremental_equals_full import demo_pg_options

if TYPE_CHECKING:
    from tests.monitor.conftest import Receiver

pytestmark = pytest.mark.integration

# the key the demo's dbt pseudonymises with (meltano.yml's demo environment)
DEMO_KEY = re.search(r"nis2\.pseudonym_key=(\S+)", demo_pg_options())[1].encode()
SOURCES_FILE = ROOT / "monitor" / "finding_sources.toml"
SOURCE = "auth_failure_detection"  # the auth-failure detections' source in that file
# settings of the caller's shell that would point the job elsewhere (NIS2_PG_CONNINFO,
# TARGET_POSTGRES_*, DBT_POSTGRES_*, TAP_*, PG*, ...): the job gets only the copies' settings
FOREIGN = ("NIS2_", "DIDIT_", "TAP_", "TARGET_", "DBT_", "WAZUH_SPOOL_", "MELTANO_", "PG")
JOB_TIMEOUT_S = 900


@dataclass(frozen=True)
class MonitorCopy:
    conninfo: str
    var_dir: Path
    sim_url: str
    env: dict[str, str]


def _clone_warehouse(admin_conninfo: str, name: str) -> None:
    """`create database <name> template warehouse`: refused while anyone is connected to the
    template, so idle sessions left on it are ended and the statement retried."""
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        for attempt in range(20):
            try:
                conn.execute(f'create database "{name}" template warehouse')
                return
            except psycopg.errors.ObjectInUse:
                if attempt == 19:
                    raise
            conn.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = "
                "'warehouse' and pid <> pg_backend_pid() and state like 'idle%'"
            )
            time.sleep(0.5)


def _copy_runtime(source: Path, target: Path) -> None:
    """The simulated world, Meltano's state (bookmarks) and the Wazuh spool of `source`."""
    shutil.copytree(source / "org", target / "org")
    shutil.copytree(source / "wazuh-spool", target / "wazuh-spool")
    with (
        sqlite3.connect(source / "meltano.db") as src,
        sqlite3.connect(target / "meltano.db") as dst,
    ):
        src.backup(dst)


def _audit_entries(var_dir: Path) -> int:
    with sqlite3.connect(var_dir / "org" / "didit" / "didit.sqlite") as db:
        return db.execute("select count(*) from audit_log").fetchone()[0]


def _schema_exists(conninfo: str, schema: str) -> bool:
    with psycopg.connect(conninfo) as conn:
        return conn.execute("select to_regnamespace(%s) is not null", (schema,)).fetchone()[0]


@pytest.fixture
def monitor_copy(
    pipeline_run: PipelineRun,
    admin_conninfo: str,
    receiver: Receiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[MonitorCopy]:
    from simulator.didit_api import start_server

    shared_counts = raw_counts(pipeline_run.conninfo)
    shared_ops = _schema_exists(pipeline_run.conninfo, "nis2_ops")
    shared_audit = _audit_entries(pipeline_run.var_dir)

    name = f"monitor_e2e_{os.getpid()}"
    _clone_warehouse(admin_conninfo, name)
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    _copy_runtime(pipeline_run.var_dir, var_dir)
    sim = start_server(data_dir=var_dir / "org" / "didit", port=0, rate_limit=False)
    try:
        for key in [k for k in os.environ if k.startswith(FOREIGN)]:
            monkeypatch.delenv(key)
        for key, value in {
            "NIS2_VAR_DIR": str(var_dir),
            "NIS2_PG_HOST": "127.0.0.1",
            "NIS2_PG_PORT": str(TEST_PG_PORT),
            "NIS2_PG_USER": "postgres",
            "NIS2_PG_DATABASE": name,
            "DIDIT_SIM_PORT": sim.base_url.rsplit(":", 1)[1],
        }.items():
            monkeypatch.setenv(key, value)
        env = {
            **os.environ,
            **QUIET_ENV,
            **demo_env(),
            "MELTANO_DATABASE_URI": f"sqlite:///{var_dir / 'meltano.db'}",
            "NIS2_ALERT_URLS": receiver.url,
        }
        conninfo = f"host=127.0.0.1 port={TEST_PG_PORT} user=postgres dbname={name}"
        yield MonitorCopy(conninfo, var_dir, sim.base_url, env)
    finally:
        sim.stop()
        with psycopg.connect(admin_conninfo, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
    # the session's warehouse and world are as the pipeline left them
    assert raw_counts(pipeline_run.conninfo) == shared_counts
    assert _schema_exists(pipeline_run.conninfo, "nis2_ops") == shared_ops
    assert _audit_entries(pipeline_run.var_dir) == shared_audit


def _tail(output: str, lines: int = 40) -> str:
    return "\n".join(output.splitlines()[-lines:])


def _run(cmd: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        cmd,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=JOB_TIMEOUT_S,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{cmd[-2:]} exit {result.returncode}:\n{_tail(output)}"
    return output


def _inject(sim_url: str, target: str) -> dict:
    request = urllib.request.Request(  # noqa: S310 - the simulator this test started
        f"{sim_url}/_sim/attack",
        data=json.dumps({"target": target, "failures": 8}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _finding_of(message: str) -> str:
    found = re.search(r"^Finding: (\S+)$", message, re.MULTILINE)
    return found[1] if found else ""


def _deliveries(conninfo: str) -> dict[str, tuple]:
    """finding key -> (delivery id, attempts, delivered) of the one channel."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "select finding_key, delivery_id::text, attempts, delivered_at is not null "
            "from nis2_ops.alert_deliveries"
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def test_live_attack_becomes_one_alert_once_across_runs(
    monitor_copy: MonitorCopy, receiver: Receiver
) -> None:
    env = monitor_copy.env
    job = [str(meltano_bin()), "run", "nis2-monitor"]

    # the alert sources' first collection: the baseline of every source, nothing sent
    _run([sys.executable, "-m", "monitor.cli", "run"], env)
    assert receiver.requests == []
    with psycopg.connect(monitor_copy.conninfo) as conn:
        baselined = {row[0] for row in conn.execute("select source from nis2_ops.alert_sources")}
    assert baselined == {s.name for s in load_sources(SOURCES_FILE)}

    target = f"e2e-{uuid.uuid4().hex[:12]}@example.org"
    attack = _inject(monitor_copy.sim_url, target)
    assert attack["entries"] == 9  # 8 failures and the success
    account = pseudonym(DEMO_KEY, target)

    first_output = _run(job, env)
    first = list(receiver.requests)

    # the mart holds one detection of the attack, for its account
    with psycopg.connect(monitor_copy.conninfo) as conn:
        detections = conn.execute(
            "select detection_id, detection_type, detected_at "
            "from analytics_nis2.mart_nis2_auth_failure_detections "
            "where source_system = 'didit' and principal_key = %s",
            (account,),
        ).fetchall()
    assert [d[1] for d in detections] == ["user_bruteforce"]
    detection_id, _, detected_at = detections[0]
    assert _moment(attack["first_timestamp"]) <= detected_at <= _moment(attack["last_timestamp"])
    key = f"{SOURCE}:{detection_id}"

    # exactly one alert for it, naming the account by its pseudonym only
    mine = [r for r in first if _finding_of(r.payload["message"]) == key]
    assert len(mine) == 1, f"{len(mine)} alerts for the attack's finding"
    alert = mine[0]
    assert alert.payload["title"] == "[NIS2 HIGH] Authentication attack: user_bruteforce on didit"
    message = alert.payload["message"]
    assert f"Account (pseudonym): {account}" in message
    assert f"When: {detected_at.astimezone(UTC).isoformat()}" in message
    # (the attack's three lockouts also make an organisation-wide lockout burst, which names
    # no account)
    about_account = [_finding_of(r.payload["message"]) for r in first if account in str(r.payload)]
    assert about_account == [key], "another alert names the attack's account"
    delivery_id = alert.headers["x-nis2-delivery-id"]
    assert f"Delivery id: {delivery_id} (attempt 1;" in message
    # no alert of the run names the attacked account or the attacker's address in clear
    # (failures name the finding only: the text would show what leaked)
    clear = (target, target.split("@")[0], ATTACK_IP)
    leaks = [
        _finding_of(r.payload["message"])
        for r in first
        if any(value in json.dumps(r.payload) for value in clear)
    ]
    assert leaks == [], "alerts with the account or the address in clear"
    # the notification URL (a secret) is in no output of the job
    assert "tok-s3cr3t-0451" not in first_output

    # the outbox of the copy records it delivered, once
    after_first = _deliveries(monitor_copy.conninfo)
    assert after_first[key] == (delivery_id, 1, True)
    first_ids = [r.headers["x-nis2-delivery-id"] for r in first]
    assert len(set(first_ids)) == len(first_ids)
    assert {_finding_of(r.payload["message"]) for r in first} <= set(after_first)

    # a second run with nothing new: exit 0, nothing sent again
    _run(job, env)
    second = receiver.requests[len(first) :]
    again = {_finding_of(r.payload["message"]) for r in second} & set(after_first)
    assert again == set(), f"findings alerted a second time: {sorted(again)[:5]}"
    assert not {r.headers["x-nis2-delivery-id"] for r in second} & set(first_ids)
    assert _deliveries(monitor_copy.conninfo)[key] == (delivery_id, 1, True)
