"""Command line: `python -m report render ...` writes a pack; `python -m report verify DIR`
recomputes its digests and checks its signature.

Exit codes: 0 done; 1 verification failed (an unsigned pack too, unless --allow-unsigned), or
data problems with --strict; 2 bad arguments (a signed pack without a public key to check it),
an unusable signing setting, or the warehouse cannot be read.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from report.manifest import SIGNATURE, Verification, verify
from report.period import PeriodError, last_full_month
from report.signing import (
    CERTIFICATE_ENV,
    KEY_ENV,
    PUBLIC_KEY_ENV,
    TSA_ENV,
    SigningConfig,
    SigningError,
    load_public_key,
)

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
        "--classification",
        default=None,
        help="marking in every page header, e.g. TLP:AMBER+STRICT or Confidential "
        "(default: $NIS2_REPORT_CLASSIFICATION, else TLP:AMBER; TLP:RED with --internal-names)",
    )
    render.add_argument(
        "--strict", action="store_true", help="exit 1 if any mart is missing or unreadable"
    )
    render.add_argument(
        "--signing-key",
        default=None,
        help=f"Ed25519 private key (PEM file) that signs manifest.json (default: ${KEY_ENV}; "
        "none: the pack is marked UNSIGNED)",
    )
    render.add_argument(
        "--signing-certificate",
        default=None,
        help=f"X.509 certificate (PEM file) of that key, for the PDF's PAdES signature "
        f"(default: ${CERTIFICATE_ENV})",
    )
    render.add_argument(
        "--tsa-url", default=None, help=f"RFC 3161 timestamp authority (default: ${TSA_ENV})"
    )
    check = commands.add_parser(
        "verify", help="recompute the SHA-256 digests of a pack and check its signature"
    )
    check.add_argument("pack", type=Path, help="the pack folder (holds manifest.json)")
    check.add_argument(
        "--public-key",
        default=os.environ.get(PUBLIC_KEY_ENV),
        help=f"the signer's Ed25519 public key or certificate (PEM file; default: "
        f"${PUBLIC_KEY_ENV})",
    )
    check.add_argument(
        "--allow-unsigned",
        action="store_true",
        help="accept a pack without signature (its digests are still checked)",
    )
    return parser


def _say(message: str) -> None:
    print(f"[nis2-report] {message}", file=sys.stderr, flush=True)


def _render(args: argparse.Namespace) -> int:
    from report.pack import EntityUnknownError, render_from_warehouse
    from report.pseudonyms import PseudonymKeyMissingError
    from report.warehouse import WarehouseError

    try:
        signing = SigningConfig.from_env(args.signing_key, args.signing_certificate, args.tsa_url)
    except SigningError as exc:
        _say(str(exc))
        return 2
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
            signing=signing,
            classification=args.classification,
        )
    except (PeriodError, WarehouseError, EntityUnknownError, PseudonymKeyMissingError) as exc:
        _say(str(exc))
        return 2
    except OSError as exc:  # the timestamp authority did not answer (pyHanko raises IOError)
        _say(f"pack not written: {exc}")
        return 2
    for problem in result.data_problems:
        _say(f"warning: {problem}")
    _say(f"manifest SHA-256 (record it outside the pack): {result.manifest_sha256}")
    _say(f"content manifest SHA-256 (printed in the HTML and PDF): {result.content_sha256}")
    if signing:
        _say(f"signed: {SIGNATURE} (Ed25519, public key SHA-256 {signing.fingerprint})")
    else:
        _say(f"warning: UNSIGNED pack: no signing key configured (${KEY_ENV} or --signing-key)")
    print(result.folder)
    return 1 if args.strict and result.data_problems else 0


def _verify(args: argparse.Namespace) -> int:
    try:
        public_key = load_public_key(args.public_key) if args.public_key else None
    except SigningError as exc:
        _say(str(exc))
        return 2
    result = verify(args.pack, public_key)
    if result.problem:
        _say(result.problem)
        return 2
    for label, paths in (
        ("CHANGED", result.changed),
        ("MISSING", result.missing),
        ("NOT IN MANIFEST", result.unlisted),
        ("INCONSISTENT", result.inconsistent),
    ):
        for path in paths:
            print(f"{label}: {path}")
    verdict, code, signature = _signature_verdict(result, args.allow_unsigned)
    print(f"{verdict}: {result.checked} files checked in {args.pack}")
    print(signature)
    for note in result.notes:
        print(f"  {note}")
    return code


def _signature_verdict(result: Verification, allow_unsigned: bool) -> tuple[str, int, str]:
    """The verdict, the exit code and the line about the signature."""
    if result.signature == "invalid":
        return "FAILED", 1, f"SIGNATURE INVALID: {result.signature_note}"
    if result.signature == "unsigned":
        if not result.ok:
            return "FAILED", 1, f"UNSIGNED: {SIGNATURE} is absent"
        if allow_unsigned:
            line = f"UNSIGNED: {SIGNATURE} is absent; accepted because of --allow-unsigned"
            return "OK (UNSIGNED)", 0, line
        line = f"UNSIGNED: {SIGNATURE} is absent: nothing proves who wrote this pack"
        return "FAILED (unsigned; --allow-unsigned accepts it)", 1, line
    if result.signature == "unchecked":
        line = (
            f"SIGNATURE NOT CHECKED: the pack is {result.signature_note}; give the signer's "
            f"public key (--public-key or ${PUBLIC_KEY_ENV})"
        )
        return "FAILED", 1 if not result.ok else 2, line
    return (
        ("OK" if result.ok else "FAILED"),
        0 if result.ok else 1,
        (f"SIGNATURE: {result.signature_note}"),
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return _render(args) if args.command == "render" else _verify(args)


if __name__ == "__main__":
    sys.exit(main())
