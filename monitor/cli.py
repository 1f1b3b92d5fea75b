"""`nis2-monitor`: run (collect + deliver), status, loop (the job every N seconds), receiver."""

from __future__ import annotations

import argparse
import sys

import psycopg

from monitor import state
from monitor.run import run_once
from monitor.sources import SourceConfigError, load_sources
from nis2_settings import AlertSettings, SettingsError


def _run(_: argparse.Namespace) -> int:
    settings = AlertSettings.from_env()
    if not settings.urls:
        print(
            "nis2-monitor: ERROR no notification URL configured (NIS2_ALERT_URLS, Meltano "
            "setting nis2-alerts notify_urls): nothing could be alerted",
            file=sys.stderr,
        )
        return 2
    sources = load_sources(settings.sources_file)
    result = run_once(settings, sources, sys.stdout)
    print(
        f"nis2-monitor: {result.new} new finding(s), {result.delivered} alert(s) delivered, "
        f"{result.failed} failed (retried later), {result.baselined} baselined"
    )
    for error in result.errors:
        print(f"nis2-monitor: ERROR {error}", file=sys.stderr)
    return 1 if result.errors or result.failed else 0


def _status(_: argparse.Namespace) -> int:
    settings = AlertSettings.from_env()
    with psycopg.connect(settings.conninfo, autocommit=True) as conn:
        state.ensure_schema(conn)
        rows = state.status(conn)
    if not rows:
        print("no alert recorded yet")
    for channel, delivered, pending, failing, oldest in rows:
        print(
            f"{channel}: {delivered} delivered, {pending} pending ({failing} failing)"
            + (f", oldest pending since {oldest.isoformat()}" if oldest else "")
        )
    return 1 if any(row[3] for row in rows) else 0


def _loop(args: argparse.Namespace) -> int:
    from monitor.loop import loop

    return loop(args.job, args.interval, args.cycles, args.demo)


def _receiver(args: argparse.Namespace) -> int:
    from monitor.receiver import serve

    return serve(args.port)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nis2-monitor", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="collect new findings and deliver due alerts (the job's step)")
    sub.add_parser("status", help="alerts delivered and pending per channel")
    lp = sub.add_parser("loop", help="`meltano run <job>` every --interval seconds")
    lp.add_argument("--job", default="nis2-monitor")
    lp.add_argument("--interval", type=float, default=60.0, help="seconds from start to start")
    lp.add_argument("--cycles", type=int, default=0, help="stop after N cycles (0: never)")
    lp.add_argument(
        "--demo",
        action="store_true",
        help="the environment `make demo` runs with (var/, embedded Postgres)",
    )
    rp = sub.add_parser("receiver", help="a local webhook receiver that prints alerts")
    rp.add_argument("--port", type=int, default=8099)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    handler = {"run": _run, "status": _status, "loop": _loop, "receiver": _receiver}
    try:
        return handler[args.command](args)
    except (SettingsError, SourceConfigError) as exc:
        print(f"nis2-monitor: ERROR {exc}", file=sys.stderr)
        return 2
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
        print(f"nis2-monitor: ERROR cannot reach the warehouse: {first}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
