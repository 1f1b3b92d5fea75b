"""`nis2-pipeline`: run the demo, manage the embedded Postgres, print the environment."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from nis2_settings import Paths, PgSettings, SettingsError
from pipeline.meltano import MeltanoError
from pipeline.postgres import EmbeddedPostgres, PostgresError


def _pg_server() -> EmbeddedPostgres:
    pg = PgSettings.from_env()
    return EmbeddedPostgres(Paths.from_env().pg, pg.port, pg.host)


def cmd_demo(args: argparse.Namespace) -> int:
    from pipeline.demo import DemoOptions, run_demo

    end = datetime.fromisoformat(args.end) if args.end else None
    if end is not None and end.tzinfo is None:
        end = end.replace(tzinfo=UTC)  # the simulated clock is UTC, like Didit's
    options = DemoOptions(
        seed=args.seed, days=args.days, api_calls_per_day=args.api_calls_per_day, end=end
    )
    return run_demo(options)


def cmd_pg(args: argparse.Namespace) -> int:
    server = _pg_server()
    if args.action == "start":
        server.start()
        print(f"embedded Postgres running on {server.host}:{server.port} ({server.pgdata})")
    else:
        print("running" if server.is_running() else "stopped")
    return 0


def cmd_stop(_: argparse.Namespace) -> int:
    from pipeline import dashboards

    stopped = dashboards.stop(Paths.from_env().var / "superset")
    print("dashboards (Superset) " + ("stopped" if stopped else "were not running"))
    print("embedded Postgres " + ("stopped" if _pg_server().stop() else "was not running"))
    return 0


def cmd_check_register(args: argparse.Namespace) -> int:
    from pipeline import register_check

    return register_check.main(args.paths)


def cmd_reconcile(args: argparse.Namespace) -> int:
    from pipeline import reconcile

    argv = [f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items() if k in _RECONCILE and v]
    return reconcile.main(argv)


_RECONCILE = ("wazuh_state_dir", "dbt_schema")


def cmd_lease(args: argparse.Namespace) -> int:
    from pipeline import job_lease

    return job_lease.main(args.lease_args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nis2-pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the whole pipeline on the simulated organisation")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--days", type=int, default=365, help="days of simulated history")
    demo.add_argument("--api-calls-per-day", type=int, default=60)
    demo.add_argument("--end", help="simulated 'now' (ISO 8601, default: the real now)")
    demo.set_defaults(func=cmd_demo)

    pg = sub.add_parser("pg", help="the embedded PostgreSQL server")
    pg.add_argument("action", choices=["start", "status"])
    pg.set_defaults(func=cmd_pg)

    check = sub.add_parser(
        "check-register",
        help="name every bad row of CSV incident registers; exit 1 if any (tap-incidents runs "
        "the same check on the files it reads)",
    )
    check.add_argument("paths", nargs="+", help="file paths or globs")
    check.set_defaults(func=cmd_check_register)

    rec = sub.add_parser(
        "reconcile",
        help="per source: offered = loaded + rejected + left out (+ duplicates), recorded in "
        "nis2_ops.source_reconciliation; exit 1 when a source offered records and none loaded",
    )
    rec.add_argument("--wazuh-state-dir", help="wazuh-spool's state_dir (its ledger.jsonl)")
    rec.add_argument("--dbt-schema", help="dbt's target schema (default: analytics)")
    rec.set_defaults(func=cmd_reconcile)

    lease = sub.add_parser(
        "lease",
        help="one job at a time on the warehouse: `lease acquire <job>` as a job's first task, "
        "`lease release` as its last (pipeline/job_lease.py)",
        add_help=False,
    )
    lease.add_argument("lease_args", nargs=argparse.REMAINDER)
    lease.set_defaults(func=cmd_lease)

    stop = sub.add_parser("stop", help="stop the dashboards and the embedded PostgreSQL server")
    stop.set_defaults(func=cmd_stop)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (PostgresError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except MeltanoError as exc:  # a DashboardsError too
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
