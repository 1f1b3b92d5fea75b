"""Benchmark tap-didit against the Didit simulator. Prints numbers; asserts nothing.

Part 1, rate limit off: records/s of tap-didit, of the same streams with the SDK's stock
settings (stock_sdk_tap.py) and of a bare requests+json loop (bare_loop.py), median of
`--repeats` runs each, interleaved, all in this one run, with their ratios.

Part 2, rate limit on: wall time of a backfill of sessions + their children against the
floor, requests needed / allowed rate. The simulator's window is shortened to
`--window-s` seconds with the same per-minute rate (60 GET per 6 s = 600/min), so the
run stays short; the tap paces itself at its default 590/min.

    python tap-didit/benchmarks/benchmark_tap.py [--days 30] [--calls-per-day 2000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from simulator.didit_api import start_server  # noqa: E402
from simulator.world import generate_world  # noqa: E402

LIST_STREAMS = {"audit_logs", "sessions", "users", "businesses", "workflows"}
BACKFILL_STREAMS = {"sessions", "session_reviews", "session_decisions"}
DEMO = {
    "api_key": "sim-readonly-key-0001",
    "console_email": "compliance.officer@example.org",
    "console_password": "sim-console-password",
    "console_totp_secret": "JBSWY3DPEHPK3PXP",
}


def tap_config(base_url: str, org: dict, **overrides: object) -> dict:
    return {
        **DEMO,
        "base_url": f"{base_url}/v3",
        "console_base_url": f"{base_url}/v3",
        "auth_base_url": f"{base_url}/auth/v2",
        "organization_id": org["organization_id"],
        "application_id": org["application_id"],
        "page_size": 100,
        "audit_logs_page_size": 500,
        **overrides,
    }


def catalog_for(config: dict, streams: set[str]) -> dict:
    from tap_didit.tap import TapDidit

    catalog = TapDidit(config=config, parse_env_config=False).catalog_dict
    for entry in catalog["streams"]:
        for md in entry["metadata"]:
            if md["breadcrumb"] == []:
                md["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


#: Child processes may cache bytecode, as any normal install does (some shells set
#: PYTHONDONTWRITEBYTECODE, which would make every start-up recompile the SDK).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def warm_up() -> None:
    """Import everything once so no measured run pays for compiling bytecode."""
    subprocess.run(
        [sys.executable, "-c", "import tap_didit.tap, requests, simplejson"],
        env=CHILD_ENV,
        check=True,
    )


def run(command: list[str], workdir: Path) -> tuple[float, int, str]:
    """Wall seconds, RECORD lines written, stderr."""
    out_path = workdir / "out.jsonl"
    with out_path.open("wb") as out:
        started = time.perf_counter()
        done = subprocess.run(
            command, stdout=out, stderr=subprocess.PIPE, text=True, check=False, env=CHILD_ENV
        )
        elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[1:3]} failed:\n{done.stderr[-3000:]}")
    with out_path.open("rb") as out:
        records = sum(
            1 for line in out if line.startswith(b'{"type":"RECORD"') or b'"RECORD"' in line[:20]
        )
    return elapsed, records, done.stderr


def throughput(base_url: str, org: dict, workdir: Path, repeats: int) -> None:
    config = tap_config(base_url, org, max_requests_per_minute=0)
    (workdir / "config.json").write_text(json.dumps(config))
    (workdir / "catalog.json").write_text(json.dumps(catalog_for(config, LIST_STREAMS)))
    args = ["--config", str(workdir / "config.json"), "--catalog", str(workdir / "catalog.json")]
    variants = {
        "tap-didit": [sys.executable, "-m", "tap_didit", *args],
        "stock SDK settings": [sys.executable, str(HERE / "stock_sdk_tap.py"), *args],
        "bare requests+json": [
            sys.executable,
            str(HERE / "bare_loop.py"),
            str(workdir / "config.json"),
        ],
    }
    results: dict[str, list[tuple[float, int]]] = {name: [] for name in variants}
    for round_no in range(repeats):
        for name, command in variants.items():
            elapsed, records, _ = run(command, workdir)
            results[name].append((elapsed, records))
            print(
                f"  round {round_no + 1}: {name:<20} {records:>7} records {elapsed:7.2f} s",
                flush=True,
            )
    rates = {n: statistics.median(r / s for s, r in runs) for n, runs in results.items()}
    print("\nExtraction, rate limit off (median records/s over the whole process run):")
    print(f"  {'variant':<22}{'records':>9}{'rec/s':>10}{'vs tap-didit':>14}")
    for name, rate in rates.items():
        records = results[name][0][1]
        print(f"  {name:<22}{records:>9}{rate:>10.0f}{rate / rates['tap-didit']:>13.2f}x")
    ours = [seconds for seconds, _ in results["tap-didit"]]
    for other in ("stock SDK settings", "bare requests+json"):
        # Ratios per round (runs side by side) are steadier than ratios of medians when
        # the machine is shared.
        per_round = [theirs / mine for (theirs, _), mine in zip(results[other], ours, strict=True)]
        print(
            f"  tap-didit speed / {other:<20} = {statistics.median(per_round):.2f}x "
            f"(per round: {', '.join(f'{r:.2f}' for r in per_round)})"
        )


def backfill(base_url: str, org: dict, workdir: Path, window_s: float, days: float) -> None:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    config = tap_config(base_url, org, start_date=start.strftime("%Y-%m-%dT%H:%M:%SZ"))
    (workdir / "config.json").write_text(json.dumps(config))
    (workdir / "catalog.json").write_text(json.dumps(catalog_for(config, BACKFILL_STREAMS)))
    args = ["--config", str(workdir / "config.json"), "--catalog", str(workdir / "catalog.json")]
    elapsed, records, stderr = run([sys.executable, "-m", "tap_didit", *args], workdir)
    requests_made = sum(
        int(m) for m in re.findall(r'"metric":"http_request_count","value":(\d+)', stderr)
    )
    throttled = len(re.findall(r"HTTP 429", stderr))
    stamps = re.findall(r"^(\S+ \S+) .*http_request_duration", stderr, re.MULTILINE)
    first, last = (dt.datetime.strptime(s, "%Y-%m-%d %H:%M:%S,%f") for s in (stamps[0], stamps[-1]))
    span = (last - first).total_seconds()
    allowed_per_s = 600 / 60
    floor = requests_made / allowed_per_s
    print(f"\nBackfill with the simulator's rate limit on (600 GET/min, {window_s:g}-s window):")
    print(f"  streams: {', '.join(sorted(BACKFILL_STREAMS))}; {records} records")
    print(f"  requests: {requests_made}; floor = requests / 10 per s = {floor:.1f} s")
    print(
        f"  wall time (whole process): {elapsed:.1f} s = {elapsed / floor:.3f} x floor "
        f"({(elapsed / floor - 1) * 100:+.1f} %)"
    )
    print(
        f"  first to last request:     {span:.1f} s = {span / floor:.3f} x floor "
        f"({(span / floor - 1) * 100:+.1f} %); the rest is start-up"
    )
    print(f"  429 responses seen: {throttled}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--calls-per-day", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--window-s", type=float, default=6.0)
    parser.add_argument("--backfill-days", type=float, default=25.0)
    options = parser.parse_args()
    warm_up()
    with tempfile.TemporaryDirectory(prefix="tap-didit-bench-") as tmp:
        workdir = Path(tmp)
        print(f"Generating a simulated organisation ({options.days} days)...", flush=True)
        generate_world(
            workdir / "org", seed=7, days=options.days, api_calls_per_day=options.calls_per_day
        )
        data = workdir / "org" / "didit"
        org = json.loads((data / "organisation.json").read_text())
        with start_server(data_dir=data, rate_limit=False) as server:
            throughput(server.base_url, org, workdir, options.repeats)
        scale = options.window_s / 60
        with start_server(
            data_dir=data, rate_limit=True, get_limit=round(600 * scale), window_s=options.window_s
        ) as server:
            backfill(server.base_url, org, workdir, options.window_s, options.backfill_days)


if __name__ == "__main__":
    main()
