"""SHA-256 digests of every file in the pack, their signature, and their verification.

Two manifests break the circle between the documents and the digests printed in them:

- `content-manifest.json` lists the exports and drafts (`data/`, `drafts/`) with their digests,
  and the pack's identity (pack id, period, generator, warehouse state). It is written first;
  its SHA-256 is printed in the HTML and in every PDF page footer.
- `manifest.json` lists every file, the HTML, the PDF and content-manifest.json included, and
  is signed: `manifest.json.sig` (Ed25519, raw 64 bytes over its exact bytes), optionally
  timestamped (`manifest.json.sig.tst`, RFC 3161 token over the signature). The PDF also
  carries its own PAdES signature under the same key.

`SHA256SUMS` repeats manifest.json's digests for `sha256sum -c`; it is a convenience, not
evidence (it is not signed, manifest.json is).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from report.signing import (
    ALGORITHM,
    SigningConfig,
    check_pdf,
    fingerprint,
    timestamp_time,
    timestamp_token,
    verify_signature,
)

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
SIGNATURE = "manifest.json.sig"
TIMESTAMP = "manifest.json.sig.tst"
CONTENT_MANIFEST = "content-manifest.json"
CONTENT_FOLDERS = ("data", "drafts")
FORMAT = "nis2-evidence-pack/2"
CONTENT_FORMAT = "nis2-evidence-pack-content/1"
_OUTSIDE = {MANIFEST, SUMS, SIGNATURE, TIMESTAMP}
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _pack_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).as_posix() not in _OUTSIDE
    )


def _entries(folder: Path, files: list[Path]) -> list[dict[str, Any]]:
    return [
        {
            "path": p.relative_to(folder).as_posix(),
            "bytes": p.stat().st_size,
            "sha256": sha256_file(p),
        }
        for p in files
    ]


def _write_json(path: Path, value: dict[str, Any]) -> bytes:
    data = (json.dumps(value, indent=1) + "\n").encode("utf-8")
    path.write_bytes(data)
    return data


def write_content_manifest(folder: Path, about: dict[str, Any]) -> str:
    """Write content-manifest.json for the exports and drafts already in `folder`; return its
    SHA-256, the digest the HTML and the PDF print."""
    files = [p for p in _pack_files(folder) if p.relative_to(folder).parts[0] in CONTENT_FOLDERS]
    content = {"format": CONTENT_FORMAT, **about, "algorithm": "sha256"}
    content["files"] = _entries(folder, files)
    return hashlib.sha256(_write_json(folder / CONTENT_MANIFEST, content)).hexdigest()


def write_manifest(
    folder: Path, about: dict[str, Any], signing: SigningConfig | None = None
) -> str:
    """Write manifest.json and SHA256SUMS for every file in `folder`, sign manifest.json when a
    key is configured (and timestamp the signature when a TSA is); return the manifest's own
    SHA-256."""
    entries = _entries(folder, _pack_files(folder))
    seal = {"algorithm": ALGORITHM, "public_key_sha256": signing.fingerprint} if signing else None
    manifest = {"format": FORMAT, **about, "signature": seal, "algorithm": "sha256"}
    manifest["files"] = entries
    data = _write_json(folder / MANIFEST, manifest)
    (folder / SUMS).write_text(
        "".join(f"{e['sha256']}  {e['path']}\n" for e in entries), encoding="utf-8"
    )
    if signing:
        signature = signing.key.sign(data)
        (folder / SIGNATURE).write_bytes(signature)
        if signing.tsa_url:
            (folder / TIMESTAMP).write_bytes(timestamp_token(signature, signing.tsa_url))
    return hashlib.sha256(data).hexdigest()


@dataclass
class Verification:
    checked: int = 0
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)
    problem: str = ""
    #: failed checks beyond the digests: content manifest, printed digest, PDF, timestamp
    inconsistent: list[str] = field(default_factory=list)
    #: valid / invalid (not by the given key, or changed) / unsigned / unchecked (no key given)
    signature: str = "unchecked"
    signature_note: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every file matches manifest.json and the pack is consistent (not: signed)."""
        return not (
            self.changed or self.missing or self.unlisted or self.problem or self.inconsistent
        )

    @property
    def trusted(self) -> bool:
        """`ok`, and manifest.json is signed by the public key given."""
        return self.ok and self.signature == "valid"


def verify(folder: Path, public_key: Ed25519PublicKey | None = None) -> Verification:
    """Recompute every digest listed in the manifest, look for files it does not list, check
    the content manifest and the digest printed in the HTML, and, with `public_key`, the
    signatures of manifest.json and of the PDF."""
    result = Verification()
    manifest_path = folder / MANIFEST
    try:
        data = manifest_path.read_bytes()
        manifest = json.loads(data)
        entries = manifest["files"]
    except FileNotFoundError:
        result.problem = f"{manifest_path} not found: is this an evidence-pack folder?"
        return result
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
        result.problem = f"{manifest_path} is not a valid manifest ({exc})"
        return result
    _check_digests(folder, entries, result)
    _check_content(folder, manifest, result)
    _check_signature(folder, data, manifest, public_key, result)
    return result


def _check_digests(folder: Path, entries: list[dict[str, Any]], result: Verification) -> None:
    listed = set()
    for entry in entries:
        relative = str(entry.get("path", ""))
        listed.add(relative)
        path = folder / relative
        if ".." in Path(relative).parts or not path.is_file():
            result.missing.append(relative)
            continue
        result.checked += 1
        if sha256_file(path) != entry.get("sha256"):
            result.changed.append(relative)
    result.unlisted = [
        p.relative_to(folder).as_posix()
        for p in _pack_files(folder)
        if p.relative_to(folder).as_posix() not in listed
    ]


def _check_content(folder: Path, manifest: dict[str, Any], result: Verification) -> None:
    """content-manifest.json agrees with manifest.json, and the HTML prints its digest."""
    sealed = manifest.get("content_manifest")
    if manifest.get("format") == "nis2-evidence-pack/1":  # before content manifests
        result.notes.append(f"{MANIFEST} of format 1: no content manifest, no signature")
        return
    if not isinstance(sealed, dict):
        result.inconsistent.append(f"{MANIFEST} names no content manifest")
        return
    path = folder / CONTENT_MANIFEST
    if not path.is_file():
        return  # reported as missing by the digest check
    digest = sha256_file(path)
    if digest != sealed.get("sha256"):
        result.inconsistent.append(f"{CONTENT_MANIFEST} is not the one {MANIFEST} names")
    try:
        content = json.loads(path.read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError, TypeError):
        result.inconsistent.append(f"{CONTENT_MANIFEST} is not a valid manifest")
        return
    outer = {e.get("path"): e.get("sha256") for e in manifest["files"]}
    for entry in content:
        if outer.get(entry.get("path")) != entry.get("sha256"):
            result.inconsistent.append(f"{CONTENT_MANIFEST} disagrees on {entry.get('path')}")
    html = folder / str(manifest.get("html", ""))
    if html.is_file() and digest not in html.read_text(encoding="utf-8", errors="replace"):
        result.inconsistent.append(f"{html.name} does not print the content manifest's digest")


def _check_signature(
    folder: Path,
    data: bytes,
    manifest: dict[str, Any],
    public_key: Ed25519PublicKey | None,
    result: Verification,
) -> None:
    seal = manifest.get("signature")
    signature_path = folder / SIGNATURE
    if not signature_path.is_file():
        result.signature = "unsigned"
        if seal:
            result.inconsistent.append(f"{MANIFEST} says it is signed but {SIGNATURE} is missing")
        return
    signature = signature_path.read_bytes()
    claimed = seal.get("public_key_sha256", "") if isinstance(seal, dict) else ""
    if public_key is None:
        result.signature = "unchecked"
        result.signature_note = f"signed by the key with SHA-256 {claimed or 'unknown'}"
        return
    given = fingerprint(public_key)
    if verify_signature(data, signature, public_key):
        result.signature = "valid"
        result.signature_note = f"Ed25519 signature of {MANIFEST} valid (key SHA-256 {given})"
    else:
        result.signature = "invalid"
        why = (
            f"the pack names another key (SHA-256 {claimed})"
            if claimed and claimed != given
            else f"{MANIFEST} was changed after it was signed"
        )
        result.signature_note = (
            f"the Ed25519 signature {SIGNATURE} does not verify {MANIFEST} with the public key "
            f"given (SHA-256 {given}): {why}"
        )
    _check_timestamp(folder, signature, result)
    pdf = folder / str(manifest.get("pdf", ""))
    if manifest.get("pdf") and pdf.is_file():
        check = check_pdf(pdf, public_key)
        if check.problem:
            result.inconsistent.append(f"{pdf.name}: {check.problem}")
        elif check.signed:
            result.notes.append(f"{pdf.name}: PAdES signature intact, made by the same key")
        else:
            result.notes.append(f"{pdf.name}: no PAdES signature (no certificate configured)")


def _check_timestamp(folder: Path, signature: bytes, result: Verification) -> None:
    path = folder / TIMESTAMP
    if not path.is_file():
        return
    try:
        when = timestamp_time(path.read_bytes(), signature)
    except ValueError as exc:
        result.inconsistent.append(f"{TIMESTAMP}: {exc}")
        return
    result.notes.append(
        f"{TIMESTAMP}: RFC 3161 timestamp of the signature at {when.isoformat()} (check the "
        "TSA's certificate with openssl ts -verify)"
    )
