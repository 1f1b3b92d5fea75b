"""SHA-256 digests of every file in the pack, and their verification.

`manifest.json` lists each file's size and digest; `SHA256SUMS` holds the same digests in the
format `sha256sum -c` reads, so an auditor can check the pack without our code. The digest of
the manifest itself is printed at generation, to be recorded outside the pack.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
FORMAT = "nis2-evidence-pack/1"
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _pack_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in {MANIFEST, SUMS})


def write_manifest(folder: Path, about: dict[str, Any]) -> str:
    """Write manifest.json and SHA256SUMS for every file in `folder`; return the manifest's
    own SHA-256."""
    entries = [
        {
            "path": p.relative_to(folder).as_posix(),
            "bytes": p.stat().st_size,
            "sha256": sha256_file(p),
        }
        for p in _pack_files(folder)
    ]
    manifest = {"format": FORMAT, **about, "algorithm": "sha256", "files": entries}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    (folder / SUMS).write_text(
        "".join(f"{e['sha256']}  {e['path']}\n" for e in entries), encoding="utf-8"
    )
    return sha256_file(folder / MANIFEST)


@dataclass
class Verification:
    checked: int = 0
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.unlisted or self.problem)


def verify(folder: Path) -> Verification:
    """Recompute every digest listed in the manifest and look for files it does not list."""
    result = Verification()
    manifest_path = folder / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        entries = manifest["files"]
    except FileNotFoundError:
        result.problem = f"{manifest_path} not found: is this an evidence-pack folder?"
        return result
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        result.problem = f"{manifest_path} is not a valid manifest ({exc})"
        return result
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
    return result
