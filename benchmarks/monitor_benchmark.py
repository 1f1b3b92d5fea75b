"""Benchmark of the monitoring job (README "Monitoring and alerts"): attack-to-alert latency and
the idle cycle. A benchmark, not a test: it prints numbers.

It needs the demo warehouse (`make demo`, or `nis2-pipeline demo` with the same NIS2_VAR_DIR,
NIS2_PG_PORT and MELTANO_DATABASE_URI) and starts, on 127.0.0.1: the Didit simulator on that
var/org (DIDIT_SIM_PORT) and a webhook receiver. Then, at a one-minute cadence, it runs
`meltano run nis2-monitor` (the monitor's own loop: cycle start to cycle start = --interval);
before each cycle and in the middle of the wait it injects Console brute forces into the
running simulator (`POST /_sim/attack`, each on its own account). Per attack: the time from the
detection's own timestamp (the alert's "When") to the alert's arrival at the receiver. Then
--idle-cycles cycles with no new data are timed. p50, p95, idle cycle and the load average.

    .venv/bin/python benchmarks/monitor_benchmark.py [--attacks 24] [--per-cycle 4]
        [--interval 60] [--idle-cycles 3]

Goal on a 2-core machine: p95 within 2 minutes, idle cycle within 20 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from monitor.loop import QUIET_ENV, demo_env
from nis2_settings import ROOT, Paths, simulator_port

SOURCE_PREFIX = "auth_failure_detection:"


class Arrivals:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[str, tuple[float, dict]] = {}  # delivery id -> (arrival, payload)


def start_receiver(arrivals: Arrivals) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            now = time.time()
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.end_headers()
            with arrivals.lock:
                arrivals.seen.setdefault(
                    self.headers.get("X-NIS2-Delivery-Id", ""), (now, json.loads(body))
                )

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def inject(base_url: str) -> dict:
    target = f"bench-{uuid.uuid4().hex[:10]}@example.org"  # one account per attack
    request = urllib.request.Request(  # noqa: S310 - the simulator this script started
        f"{base_url}/_sim/attack",
        data=json.dumps({"target": target, "failures": 8}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def cycle(env: dict[str, str], log: Path) -> tuple[float, int]:
    started = time.monotonic()
    with log.open("a") as out:
        code = subprocess.run(
            [str(Path(sys.executable).parent / "meltano"), "run", "nis2-monitor"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        ).returncode
    took = time.monotonic() - started
    print(f"  cycle {'ok' if code == 0 else f'FAILED (exit {code})'} in {took:.1f}s", flush=True)
    return took, code


def _moment(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def latencies(arrivals: Arrivals, attacks: list[dict]) -> list[float]:
    """Per attack: arrival of its detection's alert minus the detection's own time."""
    found = []
    with arrivals.lock:
        alerts = list(arrivals.seen.values())
    for attack in attacks:
        first, last = _moment(attack["first_timestamp"]), _moment(attack["last_timestamp"])
        for arrival, payload in alerts:
            when = next(
                (line[6:] for line in payload["message"].splitlines() if line.startswith("When: ")),
                "",
            )
            if when and first <= _moment(when) <= last and "didit" in payload["title"]:
                found.append(arrival - _moment(when))
                break
    return found


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--attacks", type=int, default=24)
    p.add_argument("--per-cycle", type=int, default=4)
    p.add_argument("--interval", type=float, default=60.0)
    p.add_argument("--idle-cycles", type=int, default=3)
    args = p.parse_args()
    from simulator.didit_api import start_server

    paths = Paths.from_env()
    sim = start_server(paths.org / "didit", port=simulator_port(), rate_limit=False)
    arrivals = Arrivals()
    receiver = start_receiver(arrivals)
    env = {**os.environ, **QUIET_ENV, **demo_env()}
    env["NIS2_ALERT_URLS"] = f"json://127.0.0.1:{receiver.server_address[1]}/alerts"
    log = paths.logs / f"monitor-benchmark-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"log: {log}\nwarm-up cycle (baseline of the finding sources, bookmarks)")
    try:
        if cycle(env, log)[1] != 0:  # attacks before the baseline would not be alerted
            print(f"the warm-up cycle failed: see {log}", file=sys.stderr)
            return 2
        attacks: list[dict] = []
        while len(attacks) < args.attacks:
            started = time.monotonic()
            n = min(args.per_cycle, args.attacks - len(attacks))
            half = n // 2
            attacks += [inject(sim.base_url) for _ in range(n - half)]
            cycle(env, log)
            time.sleep(max(0.0, args.interval / 2 - (time.monotonic() - started)))
            attacks += [inject(sim.base_url) for _ in range(half)]  # mid-wait
            time.sleep(max(0.0, args.interval - (time.monotonic() - started)))
        for _ in range(2):  # the attacks injected during the last wait
            cycle(env, log)
        idle = [cycle(env, log)[0] for _ in range(args.idle_cycles)]
    finally:
        receiver.shutdown()
        sim.stop()
    found = sorted(latencies(arrivals, attacks))
    load = os.getloadavg()
    print(f"\nattacks injected: {len(attacks)}, alerted: {len(found)}")
    if found:
        p95 = found[min(len(found) - 1, round(0.95 * (len(found) - 1)))]
        print(
            f"attack-to-alert latency: p50 {statistics.median(found):.1f}s, p95 {p95:.1f}s, "
            f"max {found[-1]:.1f}s (goal: p95 <= 120 s)"
        )
    if idle:
        print(
            f"idle cycle (no new data): median {statistics.median(idle):.1f}s, "
            f"max {max(idle):.1f}s (goal: <= 20 s)"
        )
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    return 0 if len(found) == len(attacks) else 1


if __name__ == "__main__":
    sys.exit(main())
