"""Command line: `python -m report render ...` writes a pack; `python -m report verify DIR`
recomputes its digests.

Exit codes: 0 done; 1 verification failed, or data problems with --strict; 2 bad arguments or
the warehouse cannot be read.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from report.manifest import verify
from report.period import PeriodError, last_full_month

ENTITY_ENV = "NIS2_ENTITY_NAME"
PERIOD_ENV = "NIS2_REPORT_PERIOD"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nis2-report", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="render the evidence pack for a period")
    render.add_argument(
        "--period",
        default=os.environ.get(PERIOD_ENV),
        help=f"YYYY-MM or YYYY-MM-DD..YYYY-MM-DD (default: ${PERIOD_ENV}, else the last full "
        "month)",
    )
    render.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder that receives the pack folder (default: $NIS2_VAR_DIR/report, i.e. "
        "var/report)",
    )
    render.add_argument(
        "--entity",
        default=os.environ.get(ENTITY_ENV),
        help=f"legal entity named in the pack (default: ${ENTITY_ENV}, else legal_name in "
        "the nis2_entity_profile seed)",
    )
    render.add_argument(
        "--internal-names",
        action="store_true",
        help="show real names and IP addresses (internal version; needs NIS2_PSEUDONYM_KEY, "
        "the key dbt used)",
    )
    render.add_argument(
        "--dsn", default=None, help="libpq conninfo of the warehouse (default: NIS2_PG_* settings)"
    )
    render.add_argument("--schema", default=None, help="schema of the marts (default: found)")
    render.add_argument("--no-pdf", action="store_true", help="skip the PDF")
    render.add_argument(
        "--strict", action="store_true", help="exit 1 if any mart is missing or unreadable"
    )
    check = commands.add_parser("verify", help="recompute the SHA-256 digests of a pack")
    check.add_argument("pack", type=Path, help="the pack folder (holds manifest.json)")
    return parser


def _say(message: str) -> None:
    print(f"[nis2-report] {message}", file=sys.stderr, flush=True)


def _render(args: argparse.Namespace) -> int:
    from report.pack import EntityUnknownError, render_from_warehouse
    from report.pseudonyms import PseudonymKeyMissingError
    from report.warehouse import WarehouseError

    try:
        result = render_from_warehouse(
            period=args.period or last_full_month(datetime.now(UTC)),
            conninfo=args.dsn,
            schema=args.schema,
            entity=args.entity,
            out=args.out,
            internal_names=args.internal_names,
            pdf=not args.no_pdf,
            progress=_say,
        )
    except (PeriodError, WarehouseError, EntityUnknownError, PseudonymKeyMissingError) as exc:
        _say(str(exc))
        return 2
    for problem in result.data_problems:
        _say(f"warning: {problem}")
    _say(f"manifest SHA-256 (record it outside the pack): {result.manifest_sha256}")
    print(result.folder)
    return 1 if args.strict and result.data_problems else 0


def _verify(args: argparse.Namespace) -> int:
    result = verify(args.pack)
    if result.problem:
        _say(result.problem)
        return 2
    for label, paths in (
        ("CHANGED", result.changed),
        ("MISSING", result.missing),
        ("NOT IN MANIFEST", result.unlisted),
    ):
        for path in paths:
            print(f"{label}: {path}")
    verdict = "OK" if result.ok else "FAILED"
    print(f"{verdict}: {result.checked} files checked in {args.pack}")
    return 0 if result.ok else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return _render(args) if args.command == "render" else _verify(args)


if __name__ == "__main__":
    sys.exit(main())
