"""Renders the evidence pack: HTML, PDF, drafts, CSV/JSON exports and the digest manifest.

The pack is written to a temporary folder beside the target and moved into place at the end,
so a crash never leaves a half-written pack where an auditor could mistake it for a whole one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from nis2_settings import Paths
from report.dictionary import write_dictionary
from report.exports import write_exports
from report.formatting import breakable, css_string, display, raw
from report.grc import dictionary_entries as grc_dictionary
from report.grc import write_grc_export
from report.manifest import CONTENT_MANIFEST, write_content_manifest, write_manifest
from report.marts import ENTITY_PROFILE, INCIDENT_REGISTER
from report.pdf import write_pdf
from report.period import Period, parse_period
from report.sections import (
    appendix,
    board,
    controls,
    identity_access,
    incidents,
    logging_evidence,
    notifications,
    summary,
)
from report.sections.base import PackContext, Section
from report.signing import CERTIFICATE_ENV, SigningConfig, sign_pdf
from report.warehouse import (
    MartData,
    MartSource,
    Row,
    load_marts,
    previous_period,
    pseudonymiser_for,
)

HTML_NAME = "evidence-pack.html"
PDF_NAME = "evidence-pack.pdf"
GENERATOR = "nis2-didit-pipeline"  # the distribution whose version the manifests record
SECTION_BUILDERS = (
    board.build,
    summary.build,
    incidents.build,
    notifications.build,
    controls.build,
    identity_access.build,
    logging_evidence.build,
    appendix.build,
)

Progress = Callable[[str], None]
CLASSIFICATION_ENV = "NIS2_REPORT_CLASSIFICATION"
# Defaults when none is configured: the pseudonymised pack goes to auditors and the authority
# (TLP:AMBER, limited disclosure); the internal pack names people (TLP:RED, named recipients).
DEFAULT_CLASSIFICATION = {False: "TLP:AMBER", True: "TLP:RED"}


def classification_for(internal_names: bool, configured: str | None = None) -> str:
    """The marking printed in every page header and on the cover: the configured one (option
    or NIS2_REPORT_CLASSIFICATION, e.g. 'TLP:AMBER+STRICT' or 'Confidential'), else the
    default for the pack's audience."""
    chosen = (configured or os.environ.get(CLASSIFICATION_ENV) or "").strip()
    return chosen or DEFAULT_CLASSIFICATION[internal_names]


class EntityUnknownError(ValueError):
    """No --entity given and the entity profile seed cannot name one."""


def entity_profile(marts: dict[str, MartData], entity: str | None) -> Row:
    """The profile row of the entity (seed nis2_entity_profile); the name given wins."""
    rows = marts[ENTITY_PROFILE].rows
    register_ids = {r.get("entity_id") for r in marts[INCIDENT_REGISTER].rows} - {None}
    chosen = [r for r in rows if r.get("entity_id") in register_ids] or rows
    profile = dict(chosen[0]) if len(chosen) == 1 else {}
    name = entity or profile.get("legal_name")
    if not name:
        raise EntityUnknownError(
            "no entity name: pass --entity (or set NIS2_ENTITY_NAME); the seed "
            f"{ENTITY_PROFILE} has {len(rows)} matching rows, not exactly one"
        )
    return {**profile, "legal_name": name}


@dataclass
class PackResult:
    folder: Path
    manifest_sha256: str
    files: list[Path]
    data_problems: list[str] = field(default_factory=list)
    content_sha256: str = ""
    pack_id: str = ""
    signed: bool = False


@dataclass(frozen=True)
class Seal:
    """What the HTML and every PDF page print to tie them to the exports: the digest of
    content-manifest.json, the pack id, and whether manifest.json will be signed."""

    content_sha256: str
    pack_id: str
    key_fingerprint: str | None  # None: UNSIGNED

    @property
    def footer(self) -> str:
        state = "signed" if self.key_fingerprint else "UNSIGNED"
        return f"{state} · {CONTENT_MANIFEST} SHA-256 {self.content_sha256}"


def pack_folder_name(period: Period, internal_names: bool) -> str:
    return f"nis2-evidence-pack_{period.slug}" + ("_internal" if internal_names else "")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["show"] = display
    env.filters["raw"] = raw
    env.filters["breakable"] = breakable
    env.filters["css_string"] = css_string
    return env


def render_html(
    context: PackContext,
    sections: list[Section],
    seal: Seal | None = None,
    classification: str | None = None,
) -> str:
    env = _environment()
    css = env.loader.get_source(env, "style.css")[0]  # type: ignore[union-attr]
    return env.get_template("pack.html.j2").render(
        css=css,
        sections=sections,
        entity=context.entity,
        profile=context.profile,
        period=context.period,
        generated_at=context.generated_at,
        source_description=context.source_description,
        internal_names=context.internal_names,
        seal=seal,
        classification=classification or classification_for(context.internal_names),
    )


def render_pack(
    source: MartSource,
    period: Period,
    entity: str | None,
    out_root: Path,
    *,
    internal_names: bool = False,
    pdf: bool = True,
    progress: Progress = lambda message: None,
    now: datetime | None = None,
    signing: SigningConfig | None = None,
    classification: str | None = None,
) -> PackResult:
    """Read the marts for `period` and write a complete, verifiable pack under `out_root`.
    Without `entity`, the legal name comes from the entity profile seed; without `signing`,
    the pack is marked UNSIGNED (banner, PDF footer, manifest)."""
    pseudonymiser = pseudonymiser_for(source, internal_names)
    progress(f"reading marts from {source.describe()} for {period.label} and the period before")
    marts = load_marts(source, period, pseudonymiser)
    profile = entity_profile(marts, entity)
    entity = str(profile["legal_name"])
    problems = [d.unavailable_reason for d in marts.values() if d.status in {"missing", "error"}]
    problems += [d.undated_note for d in marts.values() if d.undated]
    names = pseudonymiser.names
    if names is not None and names.unresolved:
        problems.append(
            f"{len(names.unresolved)} of {len(names.seen)} pseudonyms could not be named: their "
            "identity is in none of the models report/identities.py reads, or "
            "NIS2_PSEUDONYM_KEY is not the key dbt used; they are shown as pseudonyms"
        )
    for data in marts.values():
        progress(f"  {data.spec.name}: {data.status}, {len(data.rows)} rows")
    freshness_reader = getattr(source, "source_freshness", None)
    reconciliation_reader = getattr(source, "source_reconciliation", None)
    context = PackContext(
        period=period,
        entity=entity,
        profile=profile,
        marts=marts,
        internal_names=internal_names,
        generated_at=now or datetime.now(UTC),
        source_description=source.describe(),
        pseudonym_key_managed=pseudonymiser.key_is_managed,
        source_freshness=[pseudonymiser.row(r) for r in freshness_reader()]
        if freshness_reader
        else [],
        unnamed_pseudonyms=len(names.unresolved) if names is not None else 0,
        reconciliation=reconciliation_reader(period.start, period.end)
        if reconciliation_reader
        else None,
    )
    context = replace(
        context,
        previous=replace(context, period=period.previous(), marts=previous_period(marts)),
    )
    progress("building sections")
    sections = [build(context) for build in SECTION_BUILDERS]
    out_root.mkdir(parents=True, exist_ok=True)
    target = out_root / pack_folder_name(period, internal_names)
    for leftover in out_root.glob(f".{target.name}.*"):  # a render killed before its cleanup
        shutil.rmtree(leftover, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=out_root))
    try:
        sealed = _write_pack(
            staging,
            context,
            sections,
            pdf=pdf,
            signing=signing,
            progress=progress,
            classification=classification_for(internal_names, classification),
        )
        _replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    files = sorted(p for p in target.rglob("*") if p.is_file())
    progress(f"pack written: {target} ({len(files)} files)")
    digest, seal = sealed
    return PackResult(
        target,
        digest,
        files,
        problems,
        content_sha256=seal.content_sha256,
        pack_id=seal.pack_id,
        signed=seal.key_fingerprint is not None,
    )


def _write_pack(
    staging: Path,
    context: PackContext,
    sections: list[Section],
    *,
    pdf: bool,
    signing: SigningConfig | None,
    progress: Progress,
    classification: str,
) -> tuple[str, Seal]:
    """Exports and drafts first, then content-manifest.json, whose digest the HTML and the PDF
    print; then the (signed) PDF, and last the signed manifest.json over all of them."""
    progress("writing drafts and exports")
    drafts_folder = staging / "drafts"
    for draft in next(s for s in sections if s.key == "notifications").extra["drafts"]:
        drafts_folder.mkdir(exist_ok=True)
        for name, text in draft.files():  # the document and its JSON twin
            (drafts_folder / name).write_text(text, encoding="utf-8")
    for data in context.marts.values():
        write_exports(staging / "data", data, context.period)
    write_grc_export(staging / "data", context.marts, context.period)
    write_dictionary(staging / "data", context.marts, grc_dictionary())
    about = pack_identity(context)
    seal = Seal(
        write_content_manifest(staging, about),
        about["pack_id"],
        signing.fingerprint if signing else None,
    )
    html = render_html(context, sections, seal, classification)
    (staging / HTML_NAME).write_text(html, encoding="utf-8")
    if pdf:
        progress("printing the PDF")
        write_pdf(html, staging / PDF_NAME)
        if signing and signing.certificate is not None:
            progress("signing the PDF (PAdES)")
            sign_pdf(staging / PDF_NAME, signing)
        elif signing:
            progress(f"warning: no signing certificate ({CERTIFICATE_ENV}): PDF not signed")
    outer = {
        **about,
        "pseudonymised": not context.internal_names,
        "marts": {
            name: {"status": d.status, "rows": len(d.rows)} for name, d in context.marts.items()
        },
        "html": HTML_NAME,
        "pdf": PDF_NAME if pdf else None,
        "content_manifest": {"path": CONTENT_MANIFEST, "sha256": seal.content_sha256},
    }
    progress("signing manifest.json" if signing else "warning: no signing key: pack UNSIGNED")
    return write_manifest(staging, outer, signing), seal


def generator_version() -> str:
    try:
        return f"{GENERATOR} {metadata.version(GENERATOR)}"
    except metadata.PackageNotFoundError:
        return f"{GENERATOR} (version unknown)"


def pack_identity(context: PackContext) -> dict[str, Any]:
    """Who made the pack, for what, and from which warehouse state: both manifests carry it."""
    period = context.period
    return {
        "pack_id": str(uuid.uuid4()),
        "entity": context.entity,
        "period": {"label": period.label, "start": raw(period.start), "end": raw(period.end)},
        "generated_at": raw(context.generated_at),
        "generator": generator_version(),
        "warehouse_state": warehouse_state(context),
    }


def warehouse_state(context: PackContext) -> dict[str, Any]:
    """The state the pack was cut from: each raw table's last load and row estimate (as in the
    appendix), each mart's status, rows in the period and newest timestamp, and a digest of
    all of it (equal digests: the same warehouse state)."""
    state: dict[str, Any] = {
        "source": context.source_description,
        "raw_tables": [
            {
                "table": r.get("source"),
                "loaded_at": raw(r.get("loaded_at")) or None,
                "rows": r.get("rows"),
            }
            for r in context.source_freshness
        ],
        "marts": {
            name: {"status": d.status, "rows": len(d.rows), "latest_at": raw(d.latest_at) or None}
            for name, d in context.marts.items()
        },
    }
    canonical = json.dumps(state, sort_keys=True, separators=(",", ":"), default=str)
    state["sha256"] = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return state


def _replace(staging: Path, target: Path) -> None:
    """Move the finished pack into place; an older pack for the same period is replaced."""
    staging.chmod(0o755)
    if target.exists():
        retired = target.with_name(f".{target.name}.old")
        shutil.rmtree(retired, ignore_errors=True)
        target.rename(retired)
        staging.rename(target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        staging.rename(target)


def render_from_warehouse(
    period: str,
    *,
    conninfo: str | None = None,
    schema: str | None = None,
    entity: str | None = None,
    out: Path | None = None,
    internal_names: bool = False,
    pdf: bool = True,
    progress: Progress = lambda message: None,
    signing: SigningConfig | None = None,
    classification: str | None = None,
) -> PackResult:
    """The pack for `period` (YYYY-MM or a day range) from the warehouse; what the CLI and the
    pipeline call. Defaults: the NIS2_PG_* connection and $NIS2_VAR_DIR/report; `signing`:
    the key and certificate of NIS2_REPORT_SIGNING_* (none set: an UNSIGNED pack)."""
    from report.postgres_source import PostgresSource, conninfo_from_env

    parsed = parse_period(period)
    source = PostgresSource(conninfo or conninfo_from_env(), schema)
    progress(f"warehouse: {source.address}")
    try:
        return render_pack(
            source,
            parsed,
            entity,
            out or Paths.from_env().report,
            internal_names=internal_names,
            pdf=pdf,
            progress=progress,
            signing=signing if signing is not None else SigningConfig.from_env(),
            classification=classification,
        )
    finally:
        source.close()
