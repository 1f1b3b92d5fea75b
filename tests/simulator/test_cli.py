"""The command line: one command generates everything; clear errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

from sim_client import KEY, Client

from simulator.cli import main

DIDIT_SIMULATOR = [sys.executable, "-m", "simulator.cli"]


def test_generate_writes_every_source_and_prints_their_paths(tmp_path, capsys):
    code = main(
        [
            "generate",
            "--out",
            str(tmp_path / "org"),
            "--seed",
            "3",
            "--days",
            "30",
            "--api-calls-per-day",
            "20",
            "--end",
            "2026-06-30T12:00:00Z",
        ]
    )
    out = capsys.readouterr()
    assert code == 0
    for rel in (
        "didit/didit.sqlite",
        "didit/organisation.json",
        "wazuh/alerts/2026/Jun/ossec-alerts-29.json",  # a completed day: archived
        "wazuh/alerts/alerts.json",  # the day of --end: Wazuh's live file
        "incidents/incident_register.csv",
        "keycloak/schema.sql",
        "ground_truth.json",
    ):
        assert (tmp_path / "org" / rel).exists(), rel
    assert "ground_truth:" in out.out
    assert "didit:" in out.err  # progress goes to stderr
    truth = json.loads((tmp_path / "org" / "ground_truth.json").read_text())
    assert truth["period"]["end"] == "2026-06-30T12:00:00Z"


def test_bad_arguments_exit_2_with_a_message_naming_them(tmp_path, capsys):
    assert main(["generate", "--out", str(tmp_path), "--end", "yesterday"]) == 2
    assert "--end" in capsys.readouterr().err
    assert main(["generate", "--out", str(tmp_path), "--days", "5"]) == 2
    assert "days=5" in capsys.readouterr().err
    assert main(["serve", "--data", str(tmp_path / "missing")]) == 2
    assert "didit-simulator generate" in capsys.readouterr().err


def test_a_busy_port_is_named_in_the_error(world, server, capsys):
    port = server.base_url.rsplit(":", 1)[1]
    assert main(["serve", "--data", str(world / "didit"), "--port", port]) == 2
    assert f"127.0.0.1:{port}" in capsys.readouterr().err


def test_a_bad_faults_file_is_named_in_the_error(tmp_path, capsys, world):
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps({"latency": {"seconds": 1}}))
    assert main(["serve", "--data", str(world / "didit"), "--faults", str(faults)]) == 2
    err = capsys.readouterr().err
    assert str(faults) in err
    assert "seconds" in err


def test_serve_answers_on_its_port_and_stops_on_sigterm(world, tmp_path):
    proc = subprocess.Popen(
        [
            *DIDIT_SIMULATOR,
            "serve",
            "--data",
            str(world / "didit"),
            "--port",
            "0",
            "--no-rate-limit",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = proc.stdout.readline()
        base = banner.split(" on ")[1].split(" ")[0]
        c = Client(base)
        assert c.get("/v3/billing/balance/", KEY).json()["auto_refill_enabled"] is True
        c.close()
        assert "rate limits off" in banner
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    assert "sim-readonly-key-0001" not in proc.stderr.read()


def test_no_secret_appears_in_generate_output(tmp_path):
    done = subprocess.run(
        [
            *DIDIT_SIMULATOR,
            "generate",
            "--out",
            str(tmp_path / "o"),
            "--days",
            "30",
            "--api-calls-per-day",
            "10",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    for secret in ("sim-readonly-key-0001", "sim-console-password", "JBSWY3DPEHPK3PXP"):
        assert secret not in done.stdout + done.stderr
