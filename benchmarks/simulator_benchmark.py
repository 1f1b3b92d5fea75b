"""Simulator benchmark: time to generate 1 million audit-log entries, and records per second
served (rate limits off) when a plain keep-alive client pages the audit log and sessions.

Run: .venv/bin/python benchmarks/simulator_benchmark.py [--api-calls-per-day N] [--keep DIR]
Prints numbers and their ratio to the targets of issue 4 (1M in < 60 s; >= 20,000 rec/s).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import orjson

from simulator.credentials import CONSOLE_EMAIL, CONSOLE_PASSWORD, CONSOLE_TOTP_SECRET
from simulator.totp import totp_at
from simulator.world import generate_world

END = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
GENERATE_TARGET_S = 60.0
SERVE_TARGET_RPS = 20_000
KEY = {"x-api-key": "sim-readonly-key-0001"}
REPEATS = 25


def _get(conn: http.client.HTTPConnection, url: str, headers: dict) -> dict:
    conn.request("GET", url, headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 200:
        raise RuntimeError(f"GET {urlsplit(url).path} -> {resp.status}")
    return orjson.loads(body)  # the stdlib parser would be half of the measured time


def _walk(base: str, first: str, headers: dict) -> tuple[int, float, list[str]]:
    """Follow `next` to the end: records, seconds, and every page URL in order."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port)
    url, n, urls, began = first, 0, [], time.perf_counter()
    while url:
        urls.append(url)
        page = _get(conn, url.removeprefix(base), headers)
        n += len(page["results"])
        url = page["next"]
    elapsed = time.perf_counter() - began
    conn.close()
    return n, elapsed, urls


def _page_latency(base: str, urls: list[str], headers: dict, limit: int) -> None:
    """Median time of one audit-log page (the tap's day filters, ``limit``) at the start and
    at 90 % depth of the walk: a keyset cursor makes them equal, an offset scan would not."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port)
    medians = {}
    for label, url in (("first page", urls[0]), ("90 % deep", urls[int(len(urls) * 0.9)])):
        path = url.removeprefix(base).replace("limit=500", f"limit={limit}")
        times = []
        for _ in range(REPEATS):
            began = time.perf_counter()
            assert len(_get(conn, path, headers)["results"]) == limit
            times.append(time.perf_counter() - began)
        medians[label] = statistics.median(times) * 1000
    conn.close()
    first, deep = medians.values()
    print(
        f"serve audit-log page (limit {limit}, date filters): first {first:.1f} ms, "
        f"90 % deep {deep:.1f} ms (median of {REPEATS}; deep/first ratio {deep / first:.2f})"
    )


def _bearer(base: str) -> dict:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port)

    def post(path: str, body: dict) -> dict:
        conn.request(
            "POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        return json.loads(conn.getresponse().read())

    temp = post(
        "/auth/v2/programmatic/login/", {"email": CONSOLE_EMAIL, "password": CONSOLE_PASSWORD}
    )["temp_token"]
    token = post(
        "/auth/v2/2fa/verify/",
        {"temp_token": temp, "otp_token": totp_at(CONSOLE_TOTP_SECRET, time.time())},
    )["access_token"]
    conn.close()
    return {"Authorization": f"Bearer {token}"}


def _serve_and_page(data: Path) -> None:
    """The server in its own process, as a tap meets it (in one process the client and the
    server threads would share the GIL and measure its 5 ms switch interval instead)."""
    began = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator.cli",
            "serve",
            "--data",
            str(data),
            "--port",
            "0",
            "--no-rate-limit",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        banner = proc.stdout.readline()
        print(
            f"serve: answering after {time.perf_counter() - began:.3f} s (process start included)"
        )
        base = banner.split(" on ")[1].split(" ")[0]
        org = json.loads((data / "organisation.json").read_text())
        days = f"date_from={(END - timedelta(days=400)).date()}&date_to={END.date()}"
        audit = f"{base}/v3/audit/{org['organization_id']}/audit-logs/?limit=500&{days}"
        bearer = _bearer(base)
        total_n = total_s = 0.0
        for name, url, headers in (
            ("audit log (limit 500)", audit, bearer),
            ("sessions (limit 100)", f"{base}/v3/sessions/?limit=100", KEY),
        ):
            n, secs, urls = _walk(base, url, headers)
            if headers is bearer:
                audit_urls = urls
            total_n, total_s = total_n + n, total_s + secs
            rps = n / secs
            print(
                f"serve {name}: {n:,} records in {secs:.2f} s = {rps:,.0f} records/s "
                f"(target >= {SERVE_TARGET_RPS:,}: ratio {rps / SERVE_TARGET_RPS:.2f})"
            )
        rps = total_n / total_s
        print(
            f"serve overall: {total_n:,.0f} records in {total_s:.2f} s = {rps:,.0f} records/s "
            f"(ratio {rps / SERVE_TARGET_RPS:.2f}); load average now "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        _page_latency(base, audit_urls, bearer, limit=100)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--api-calls-per-day",
        type=int,
        default=3250,
        help="scale knob; the default gives about 1 million entries in 365 days",
    )
    parser.add_argument("--keep", type=Path, help="generate here and keep it (else a temp dir)")
    args = parser.parse_args()
    out = args.keep or Path(tempfile.mkdtemp(prefix="simbench-"))
    try:
        began = time.perf_counter()
        generate_world(out, seed=7, days=365, api_calls_per_day=args.api_calls_per_day, end=END)
        gen_s = time.perf_counter() - began
        truth = json.loads((out / "ground_truth.json").read_text())
        entries = truth["counts"]["didit.audit_logs"]
        per_million = gen_s * 1_000_000 / entries
        print(
            f"generate: {entries:,} audit-log entries (whole world) in {gen_s:.1f} s "
            f"= {entries / gen_s:,.0f} entries/s; {per_million:.1f} s per million "
            f"(target < {GENERATE_TARGET_S:.0f} s: ratio {per_million / GENERATE_TARGET_S:.2f})"
        )
        _serve_and_page(out / "didit")
    finally:
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
