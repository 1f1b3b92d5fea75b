"""`didit-simulator generate` and `didit-simulator serve`."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import orjson

from simulator.clock import parse_utc
from simulator.faults import FaultConfigError, validate
from simulator.world import DEFAULT_API_CALLS_PER_DAY, DEFAULT_DAYS, generate_world


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="didit-simulator", description="Simulated organisation and Didit API simulator."
    )
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="generate the organisation (all sources + ground truth)")
    g.add_argument("--out", type=Path, default=Path("var/org"), help="output folder")
    g.add_argument("--seed", type=int, default=7)
    g.add_argument("--days", type=int, default=DEFAULT_DAYS, help="length of the period")
    g.add_argument("--api-calls-per-day", type=int, default=DEFAULT_API_CALLS_PER_DAY)
    g.add_argument("--end", help="end of the period, ISO 8601 (default: now, UTC)")
    g.add_argument(
        "--start", help="first day (default: reuse the existing world's, else end minus --days)"
    )
    s = sub.add_parser("serve", help="serve a generated Didit data folder over HTTP")
    s.add_argument("--data", type=Path, default=Path("var/org/didit"))
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8765)
    s.add_argument("--no-rate-limit", action="store_true", help="disable Didit's rate limits")
    s.add_argument("--faults", type=Path, help="JSON file with a fault configuration")
    s.add_argument("--token-ttl", type=int, default=86400, help="Console token lifetime (s)")
    s.add_argument("--verbose", action="store_true", help="log every request line")
    a = sub.add_parser("attack", help="make a running simulator see a Console brute force now")
    a.add_argument("--url", default="http://127.0.0.1:8765", help="the running simulator")
    a.add_argument("--target", help="account e-mail tried (default: the Admin)")
    a.add_argument("--failures", type=int, default=8)
    a.add_argument("--no-success", action="store_true", help="no successful log-in at the end")
    return p


def _attack(args: argparse.Namespace) -> int:
    import urllib.error
    import urllib.request

    body = {"failures": args.failures, "success": not args.no_success}
    if args.target:
        body["target"] = args.target
    request = urllib.request.Request(  # noqa: S310 - the operator's own simulator URL
        f"{args.url.rstrip('/')}/_sim/attack", data=orjson.dumps(body), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            print(response.read().decode())
    except (urllib.error.URLError, OSError) as err:
        print(f"error: no simulator answered at {args.url}: {err}", file=sys.stderr)
        return 2
    return 0


def _generate(args: argparse.Namespace) -> int:
    try:
        end = parse_utc(args.end) if args.end else datetime.now(UTC)
        start = date.fromisoformat(args.start) if args.start else None
    except ValueError as err:
        print(f"error: --end/--start must be ISO 8601 ({err})", file=sys.stderr)
        return 2
    try:
        paths = generate_world(args.out, args.seed, args.days, args.api_calls_per_day, end, start)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from simulator.didit_api import start_server

    faults = None
    if args.faults:
        try:
            faults = validate(orjson.loads(args.faults.read_bytes()))
        except (OSError, orjson.JSONDecodeError, FaultConfigError) as err:
            print(f"error: --faults {args.faults}: {err}", file=sys.stderr)
            return 2
    try:
        srv = start_server(
            args.data,
            args.host,
            args.port,
            rate_limit=not args.no_rate_limit,
            faults=faults,
            token_ttl_s=args.token_ttl,
            verbose=args.verbose,
        )
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"error: cannot listen on {args.host}:{args.port}: {err.strerror}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # before the banner: callers wait on it
    limits = "off" if args.no_rate_limit else "600 GET / 300 write per minute per key"
    print(
        f"Didit simulator on {srv.base_url} (API {srv.base_url}/v3, auth "
        f"{srv.base_url}/auth/v2); rate limits {limits}. Ctrl-C to stop.",
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    srv.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = {"generate": _generate, "serve": _serve, "attack": _attack}
    return handler[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
