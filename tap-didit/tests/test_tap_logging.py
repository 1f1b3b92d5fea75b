"""What a run writes to stderr: per stream a start and a summary line at INFO, detail at DEBUG.

Runs the real command (the SDK's own console logging, `TAP_DIDIT_LOGLEVEL`) against the
simulator, with small pages so the organisation gives many requests and, through the
session children, many partitions. Counts are compared with the records on stdout.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter

from sim_org import SECRETS
from tap_didit.run_log import StreamTotals
from tap_didit.tap import TapDidit
from tap_runner import select_only

SUMMARY = re.compile(
    r"Stream '(?P<stream>\w+)' done: (?P<records>\d+) records?, (?P<partitions>\d+) "
    r"partitions?, (?P<requests>\d+) requests?, [\d.]+ s(?P<notes>[^\n]*)"
)
#: Small pages: many requests from a small organisation.
SMALL_PAGES = {"page_size": 10, "audit_logs_page_size": 50}
#: The streams the simulator serves (the tap may have more, e.g. skipped records).
DIDIT_STREAMS = {
    "audit_logs",
    "sessions",
    "session_reviews",
    "session_decisions",
    "workflows",
    "users",
    "businesses",
    "webhook_destinations",
    "webhook_deliveries",
    "cases",
    "case_events",
    "lists",
    "list_entries",
    "billing_balance",
}


def run_cli(tmp_path, config: dict, streams: set[str], level: str | None = None):
    """The tap's command with `config`, only `streams` selected, at `level` (None: default)."""
    (tmp_path / "config.json").write_text(json.dumps(config))
    catalog = select_only(TapDidit(config=config, parse_env_config=False), streams)
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    env = {k: v for k, v in os.environ.items() if k not in ("LOGLEVEL", "TAP_DIDIT_LOGLEVEL")}
    if level:
        env["TAP_DIDIT_LOGLEVEL"] = level
    command = [sys.executable, "-m", "tap_didit", "--config", str(tmp_path / "config.json")]
    command += ["--catalog", str(tmp_path / "catalog.json")]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def records_per_stream(stdout: str) -> Counter[str]:
    messages = (json.loads(line) for line in stdout.splitlines())
    return Counter(m["stream"] for m in messages if m["type"] == "RECORD")


def summaries(stderr: str) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for match in SUMMARY.finditer(stderr):
        assert match["stream"] not in found, f"two summaries for {match['stream']}"
        found[match["stream"]] = match.groupdict()
    return found


def test_info_logs_one_start_and_one_summary_line_per_stream(sim, tmp_path):
    done = run_cli(tmp_path, sim.config(**SMALL_PAGES), DIDIT_STREAMS)
    emitted = records_per_stream(done.stdout)
    lines = done.stderr.splitlines()
    found = summaries(done.stderr)

    assert set(found) == DIDIT_STREAMS
    for stream in DIDIT_STREAMS:
        assert int(found[stream]["records"]) == emitted[stream], stream
        starts = [line for line in lines if f"Beginning sync of '{stream}'" in line]
        assert len(starts) == 1, stream
    # Many requests and partitions, yet a constant number of lines per stream.
    requests = sum(int(s["requests"]) for s in found.values())
    partitions = sum(int(s["partitions"]) for s in found.values())
    assert requests > 200
    assert partitions > 100
    assert int(found["session_reviews"]["partitions"]) == emitted["sessions"]
    assert int(found["session_decisions"]["requests"]) == emitted["sessions"]
    assert len(lines) <= 3 * len(DIDIT_STREAMS) + 12
    assert "METRIC" not in done.stderr
    assert "DEBUG" not in done.stderr
    assert "assumed to be unsorted" not in done.stderr
    for secret in SECRETS:
        assert secret not in done.stderr


def test_debug_brings_back_the_per_request_and_per_partition_detail(sim, tmp_path):
    streams = {"sessions", "session_reviews", "session_decisions", "users"}
    done = run_cli(tmp_path, sim.config(**SMALL_PAGES), streams, level="DEBUG")
    emitted = records_per_stream(done.stdout)
    found = summaries(done.stderr)
    points = [
        json.loads(line.split("METRIC: ", 1)[1])
        for line in done.stderr.splitlines()
        if "METRIC: " in line
    ]
    durations = Counter(
        p["tags"]["stream"] for p in points if p["metric"] == "http_request_duration"
    )
    record_counts = Counter(p["tags"]["stream"] for p in points if p["metric"] == "record_count")

    for stream in streams:
        # One duration point per request, as the SDK logs them.
        assert durations[stream] == int(found[stream]["requests"]), stream
    for child in ("session_reviews", "session_decisions"):
        # One start line and one record count per parent session.
        assert int(found[child]["partitions"]) == emitted["sessions"]
        assert record_counts[child] == emitted["sessions"]
        starts = [line for line in done.stderr.splitlines() if f"sync of '{child}'" in line]
        assert len(starts) == emitted["sessions"]
    assert "Stream 'sessions': reading {'session_kind': 'user'} from the beginning." in done.stderr
    for secret in SECRETS:
        assert secret not in done.stderr


def test_metrics_log_level_info_keeps_the_sdk_metric_lines_at_info(sim, tmp_path):
    config = sim.config(metrics_log_level="INFO", **SMALL_PAGES)
    done = run_cli(tmp_path, config, {"users", "workflows"})
    requests = sum(int(s["requests"]) for s in summaries(done.stderr).values())
    durations = [line for line in done.stderr.splitlines() if "http_request_duration" in line]
    assert len(durations) == requests > 2
    assert "DEBUG" not in done.stderr


def test_retries_and_rate_limiting_stay_visible_at_info(sim, tmp_path):
    sim.server.set_faults(
        {
            "error_burst": {"status": 500, "count": 2, "path_regex": "/v3/users/$"},
            "rate_limit_storm": {"count": 1, "retry_after": 0, "path_regex": "/v3/workflows/$"},
        }
    )
    done = run_cli(tmp_path, sim.config(), {"users", "workflows"})
    warnings = [line for line in done.stderr.splitlines() if "WARNING" in line]
    assert sum("Stream 'users': HTTP 500, retrying" in line for line in warnings) == 2
    assert sum("Stream 'workflows': HTTP 429, retrying" in line for line in warnings) == 1
    found = summaries(done.stderr)
    assert "; 2 retries" in found["users"]["notes"]
    assert "; 1 retry" in found["workflows"]["notes"]
    assert int(found["users"]["records"]) == records_per_stream(done.stdout)["users"]


def test_summary_names_retries_skips_and_the_window():
    totals = StreamTotals(records=3, requests=1, partitions=1)
    assert totals.summary("x") == "Stream 'x' done: 3 records, 1 partition, 1 request, 0.0 s."
    totals = StreamTotals(records=1, requests=4, partitions=2, retries=1, skipped_records=2)
    totals.skipped_parents = 1
    totals.floors.update({"2026-02-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00"})
    assert totals.summary("y", selected=False) == (
        "Stream 'y' done: 1 record, 2 partitions, 4 requests, 0.0 s; not selected, read for "
        "its child streams, 1 retry, 2 records skipped, 1 parent skipped (HTTP 404), "
        "window from 2026-01-01T00:00:00+00:00."
    )
