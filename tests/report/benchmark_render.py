"""Benchmark (not a test): how rendering scales with mart size. Prints seconds per stage for
per-event marts of 2 000 and 20 000 rows and the ratio, measured in the same run.

    .venv/bin/python tests/report/benchmark_render.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from report_samples import mart_key, sample_tables

from report.pack import render_pack
from report.period import parse_period
from report.warehouse import InMemorySource


def scaled_tables(events: int) -> dict:
    tables = sample_tables()
    people = [mart_key(f"user{n}@example.org") for n in range(300)]
    start = datetime(2026, 10, 1, tzinfo=UTC)
    step = timedelta(days=30) / events
    tables["mart_nis2_privileged_activity"] = [
        {
            "event_id": f"p{i}",
            "event_ts": start + i * step,
            "actor_key": people[i % 300],
            "target_principal_key": None,
            "privilege": "admin",
            "event_class": "admin_action",
            "method": "POST",
            "path": f"/v3/workflows/{i}",
            "mfa_used": i % 50 != 0,
            "unapproved_assignment": False,
            "elevations_24h": 0,
            "behavioural_alarm": False,
        }
        for i in range(events)
    ]
    tables["mart_nis2_access_anomalies"] = [
        {
            "event_id": f"a{i}",
            "principal_key": people[i % 300],
            "event_ts": start + i * step,
            "ip_prefix_key": mart_key(f"198.51.{i % 250}.0/24"),
            "country": "DE",
            "is_off_hours": i % 3 == 0,
            "anomaly_score": i % 97,
        }
        for i in range(events)
    ]
    return tables


def measure(events: int, pdf: bool) -> float:
    source = InMemorySource(scaled_tables(events))
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        render_pack(source, parse_period("2026-10"), "Bench Org", Path(out), pdf=pdf)
        return time.perf_counter() - started


def main() -> None:
    measure(100, pdf=True)  # warm-up: imports, fonts, templates, Pango
    rows = []
    for events in (2_000, 20_000):
        html_only = measure(events, pdf=False)
        with_pdf = measure(events, pdf=True)
        rows.append((events, html_only, with_pdf))
        print(
            f"{events:>6} events/mart: pack without PDF {html_only:6.2f} s, "
            f"with PDF {with_pdf:6.2f} s (PDF share {1 - html_only / with_pdf:.0%})"
        )
    (small, s_html, _), (large, l_html, _) = rows
    print(f"scaling: {large // small}x rows -> {l_html / s_html:.1f}x time without PDF")


if __name__ == "__main__":
    main()
