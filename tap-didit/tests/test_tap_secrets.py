"""Secrets and personal data never reach the CLI's stderr, its STATE or its error output.

Runs the real command against the simulator; personal values are taken from the records
the run itself emitted, so the check covers whatever the organisation contains.
"""

from __future__ import annotations

import json
import subprocess
import sys

from sim_org import SECRETS
from tap_didit.tap import TapDidit
from tap_runner import select_only

ALL = {"sessions", "session_reviews", "session_decisions", "audit_logs", "lists", "list_entries"}
#: Personal fields per stream (flat string fields, plus e-mail objects of sessions).
PERSONAL_FIELDS = {
    "sessions": ("full_name", "vendor_data"),
    "session_reviews": ("actor_email",),
    "audit_logs": ("actor", "ip_address"),
}


def run_cli(tmp_path, config: dict) -> subprocess.CompletedProcess:
    (tmp_path / "config.json").write_text(json.dumps(config))
    catalog = select_only(TapDidit(config=config, parse_env_config=False), ALL)
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    command = [sys.executable, "-m", "tap_didit", "--config", str(tmp_path / "config.json")]
    command += ["--catalog", str(tmp_path / "catalog.json")]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def personal_values(messages: list[dict]) -> set[str]:
    found = set()
    for m in messages:
        if m["type"] != "RECORD":
            continue
        record = m["record"]
        found.update(str(record[f]) for f in PERSONAL_FIELDS.get(m["stream"], ()) if record.get(f))
        if m["stream"] == "sessions" and isinstance(record.get("email_address"), dict):
            found.add(str(record["email_address"].get("email")))
    found.discard("None")
    return found


def test_a_full_run_keeps_secrets_out_of_everything_and_personal_data_out_of_logs(sim, tmp_path):
    done = run_cli(tmp_path, sim.config())
    assert done.returncode == 0, done.stderr[-2000:]
    messages = [json.loads(line) for line in done.stdout.splitlines()]
    assert {m["stream"] for m in messages if m["type"] == "RECORD"} >= {
        "sessions",
        "session_decisions",
        "audit_logs",
        "list_entries",
    }
    tokens = set(sim.server.state.auth._tokens)  # what the auth service issued to the tap
    assert tokens
    for secret in (*SECRETS[:3], *tokens):
        assert secret not in done.stdout
        assert secret not in done.stderr
    personal = personal_values(messages)
    assert len(personal) > 20
    states = json.dumps([m for m in messages if m["type"] == "STATE"])
    for value in personal:
        assert value not in done.stderr, value
        assert value not in states, value


def test_failures_keep_bodies_and_secrets_out_of_the_error_output(sim, tmp_path):
    sim.server.set_faults(
        {"error_burst": {"status": 500, "count": 99, "path_regex": "/decision/$"}}
    )
    done = run_cli(tmp_path, sim.config(backoff_max_tries=2))
    assert done.returncode != 0
    assert "HTTP 500" in done.stderr
    assert "A server error occurred" not in done.stderr
    for secret in SECRETS:
        assert secret not in done.stderr, secret

    refused = run_cli(tmp_path, sim.config(api_key="sim-revoked-key-9999"))
    assert refused.returncode != 0
    assert "HTTP 403" in refused.stderr
    assert "You do not have permission" not in refused.stderr
    assert "sim-revoked-key-9999" not in refused.stderr
