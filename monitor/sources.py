"""The finding sources: which tables hold findings and how an alert shows them (TOML)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

SEVERITIES = ("critical", "high", "medium", "low")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_REQUIRED = ("name", "relation", "key", "where", "event_at", "severity", "title", "nis2")


class SourceConfigError(ValueError):
    """The finding sources file is unusable; the message names the file and the source."""


@dataclass(frozen=True)
class FindingSource:
    name: str
    relation: str
    key: tuple[str, ...]
    where: str
    event_at: str
    severity: str
    title: str
    nis2: str
    dashboard: str
    fields: tuple[tuple[str, str], ...]
    internal: frozenset[str]

    @property
    def columns(self) -> list[str]:
        """Every column the alert reads: keys, time, fields and the title's placeholders."""
        wanted = [*self.key, self.event_at, *(c for _, c in self.fields)]
        wanted += re.findall(r"\{([a-z_][a-z0-9_]*)\}", self.title)
        return list(dict.fromkeys(wanted))


def _source(entry: dict, where: str) -> FindingSource:
    missing = [k for k in _REQUIRED if k not in entry]
    if missing:
        raise SourceConfigError(f"{where}: missing {', '.join(missing)}")
    name = str(entry["name"])
    if not _NAME.match(name):
        raise SourceConfigError(f"{where}: name {name!r} must be lower_snake_case")
    if entry["severity"] not in SEVERITIES:
        raise SourceConfigError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
    key = entry["key"] if isinstance(entry["key"], list) else [entry["key"]]
    fields = tuple((str(label), str(col)) for label, col in entry.get("fields", []))
    internal = frozenset(entry.get("internal", []))
    if not internal <= {col for _, col in fields}:
        raise SourceConfigError(f"{where}: `internal` names columns that `fields` does not show")
    return FindingSource(
        name=name,
        relation=str(entry["relation"]),
        key=tuple(str(k) for k in key),
        where=str(entry["where"]),
        event_at=str(entry["event_at"]),
        severity=str(entry["severity"]),
        title=str(entry["title"]),
        nis2=str(entry["nis2"]),
        dashboard=str(entry.get("dashboard", "/")),
        fields=fields,
        internal=internal,
    )


def load_sources(path: Path) -> list[FindingSource]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SourceConfigError(f"finding sources {path}: {exc}") from None
    entries = data.get("source", [])
    if not entries:
        raise SourceConfigError(f"finding sources {path}: no [[source]] entry")
    sources = [_source(e, f"{path} source #{i + 1}") for i, e in enumerate(entries)]
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise SourceConfigError(f"finding sources {path}: a name appears twice")
    return sources
