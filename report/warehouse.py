"""The one data-access layer: every section reads marts through `load_marts`, nothing else
talks to the database.

A mart that is missing, empty or unreadable comes back as a `MartData` that says so, so the
section can show "no data" instead of silently dropping the topic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from report.identities import IDENTITY_SOURCES, with_ip_prefixes
from report.marts import INCIDENT_REGISTER, MARTS, REFERENCE_TABLES, Cut, MartSpec, first_present
from report.period import Period, to_moment
from report.pseudonyms import (
    NameMap,
    Pseudonymiser,
    PseudonymKeyMissingError,
    check_key_matches,
    managed_key,
)

Row = dict[str, Any]


#: The pipeline's per-run reconciliation (pipeline/reconcile.py), schema nis2_ops.
RECONCILIATION_SCHEMA, RECONCILIATION_TABLE = "nis2_ops", "source_reconciliation"


def _inside_range(value: Any, since: datetime, until: datetime) -> bool:
    moment = to_moment(value)
    return moment is not None and since <= moment < until


class WarehouseError(RuntimeError):
    """The warehouse cannot be reached or its marts cannot be located."""


@dataclass
class MartData:
    """One mart's rows for the period (and the period before, where a time column exists)."""

    spec: MartSpec
    status: str  # ok | empty | missing | error
    columns: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    previous_rows: list[Row] | None = None
    cut_note: str = ""
    problem: str = ""
    latest_at: datetime | None = None
    undated: list[Row] = field(default_factory=list)  # rows no time column can place

    @property
    def has_rows(self) -> bool:
        return bool(self.rows)

    @property
    def undated_note(self) -> str:
        """Rows left out because their time columns are empty or unreadable, named by the
        mart's declared id column (an id, never a person or an address)."""
        if not self.undated:
            return ""
        head = (
            f"{len(self.undated)} row(s) of {self.spec.name} have no readable "
            f"{' / '.join(self.spec.start_columns)} and are in no period"
        )
        key = self.spec.id_column
        if key not in self.columns:
            return f"{head} (the mart has no {key or 'id'} column to name them)"
        ids = ", ".join(str(row.get(key)) for row in self.undated[:5])
        more = f" and {len(self.undated) - 5} more" if len(self.undated) > 5 else ""
        return f"{head}: {key} {ids}{more}"

    def as_previous(self) -> MartData:
        """The same mart cut to the previous period, from the rows already read (a snapshot
        is the same in every period)."""
        rows = self.rows if self.previous_rows is None else self.previous_rows
        status = self.status if self.status in {"missing", "error"} else "ok" if rows else "empty"
        return MartData(
            self.spec,
            status,
            self.columns,
            rows,
            cut_note=self.cut_note,
            problem=self.problem,
            latest_at=self.latest_at,
        )

    @property
    def unavailable_reason(self) -> str:
        if self.status == "missing":
            return f"no data: mart {self.spec.name} does not exist in the warehouse"
        if self.status == "error":
            return f"no data: mart {self.spec.name} could not be read ({self.problem})"
        if not self.rows:
            return f"no data: mart {self.spec.name} has no rows for this period"
        return ""


class MartSource(Protocol):
    """Where mart rows come from: Postgres in production, in-memory rows in unit tests."""

    def describe(self) -> str: ...

    def fetch(
        self, name: str, at_columns: list[str], since: datetime, until: datetime
    ) -> tuple[list[str], list[Row]] | None:
        """Columns and rows of a mart (None if it does not exist). With `at_columns`, the
        source may drop rows whose first non-null such column lies outside [since, until);
        rows where all are null must be kept. The cut below is still applied."""
        ...

    def columns(self, name: str) -> list[str] | None: ...

    def latest(self, name: str, columns: list[str]) -> datetime | None:
        """The newest value among the columns over the whole mart (not only the period)."""
        ...

    def identities(self, sources: tuple[tuple[str, tuple[str, ...]], ...]) -> list[str]:
        """Distinct non-null values, as text, of the given (model, columns) that exist."""
        ...


class InMemorySource:
    """Mart rows held in memory, shaped exactly like the mart columns (for tests and replays)."""

    def __init__(self, tables: Mapping[str, Iterable[Mapping[str, Any]]]) -> None:
        self._tables = {name: [dict(row) for row in rows] for name, rows in tables.items()}

    def describe(self) -> str:
        return "in-memory rows"

    def columns(self, name: str) -> list[str] | None:
        rows = self._tables.get(name)
        if rows is None:
            return None
        seen: dict[str, None] = {}
        for row in rows:
            seen.update(dict.fromkeys(row))
        return list(seen)

    def fetch(
        self, name: str, at_columns: list[str], since: datetime, until: datetime
    ) -> tuple[list[str], list[Row]] | None:
        columns = self.columns(name)
        if columns is None:
            return None
        return columns, [dict(row) for row in self._tables[name]]

    def latest(self, name: str, columns: list[str]) -> datetime | None:
        return newest(self._tables.get(name, []), columns)

    def source_reconciliation(self, since: datetime, until: datetime) -> list[Row] | None:
        """Rows of a `source_reconciliation` table reconciled in [since, until); None if absent."""
        rows = self._tables.get(RECONCILIATION_TABLE)
        if rows is None:
            return None
        return [dict(r) for r in rows if _inside_range(r.get("reconciled_at"), since, until)]

    def identities(self, sources: tuple[tuple[str, tuple[str, ...]], ...]) -> list[str]:
        return sorted(
            {
                str(row[column])
                for model, columns in sources
                for row in self._tables.get(model, [])
                for column in columns
                if row.get(column) is not None
            }
        )


def pseudonymiser_for(source: MartSource, internal_names: bool) -> Pseudonymiser:
    """The public pack keeps the marts' pseudonyms; the internal one names them, through a map
    built here from the warehouse's identities and the key dbt used (NIS2_PSEUDONYM_KEY)."""
    key = managed_key()
    recorded = getattr(source, "pseudonym_key_id", None)
    check_key_matches(key, recorded() if recorded else None)
    if not internal_names:
        return Pseudonymiser(key)
    if key is None:
        raise PseudonymKeyMissingError(
            "--internal-names needs NIS2_PSEUDONYM_KEY set to the key dbt used "
            "(nis2.pseudonym_key) to turn the marts' pseudonyms back into names"
        )
    identities = source.identities(IDENTITY_SOURCES)
    return Pseudonymiser(key, names=NameMap(key, with_ip_prefixes(identities)))


def load_marts(
    source: MartSource, period: Period, pseudonymiser: Pseudonymiser
) -> dict[str, MartData]:
    """Every mart of the registry, read once and cut to the period and to the period before,
    with people and IPs shown as the pseudonymiser says."""
    loaded: dict[str, MartData] = {}
    register = _load_one(source, BY_REGISTER_SPEC, period, incidents=None)
    incidents = (
        {row.get("incident_id") for row in register.rows},
        {row.get("incident_id") for row in register.previous_rows or []},
    )
    for spec in (*MARTS, *REFERENCE_TABLES):
        data = register if spec is BY_REGISTER_SPEC else _load_one(source, spec, period, incidents)
        rule, role = spec.identity_when, spec.role_column
        data.rows = [pseudonymiser.row(row, rule, role) for row in data.rows]
        if data.previous_rows is not None:
            data.previous_rows = [pseudonymiser.row(row, rule, role) for row in data.previous_rows]
        data.undated = [pseudonymiser.row(row, rule, role) for row in data.undated]
        loaded[spec.name] = data
    return loaded


def previous_period(marts: dict[str, MartData]) -> dict[str, MartData]:
    """The marts cut to the previous period, from what `load_marts` already read."""
    return {name: data.as_previous() for name, data in marts.items()}


BY_REGISTER_SPEC = next(spec for spec in MARTS if spec.name == INCIDENT_REGISTER)


def _load_one(
    source: MartSource,
    spec: MartSpec,
    period: Period,
    incidents: tuple[set[Any], set[Any]] | None,
) -> MartData:
    """One read of the mart, covering this period and the one before; `incidents` holds the
    incident ids of the register in both periods."""
    previous = period.previous()
    try:
        columns = source.columns(spec.name)
        if columns is None:
            return MartData(spec, "missing", cut_note="mart not found")
        at_columns = [c for c in spec.start_columns if c in columns] if spec.cut is Cut.AT else []
        fetched = source.fetch(spec.name, at_columns, previous.start, period.end)
        time_columns = [c for c in (*spec.start_columns, *spec.end_columns) if c in columns]
        latest_at = source.latest(spec.name, time_columns) if time_columns else None
    except WarehouseError as exc:
        return MartData(spec, "error", problem=str(exc))
    if fetched is None:
        return MartData(spec, "missing", cut_note="mart not found")
    columns, all_rows = fetched
    now_ids, before_ids = incidents if incidents is not None else (None, None)
    rows, note = _cut(spec, columns, all_rows, period, now_ids)
    data = MartData(spec, "ok" if rows else "empty", columns, rows, cut_note=note)
    data.latest_at = latest_at
    data.undated = _undated(spec, columns, all_rows)
    if spec.cut is not Cut.SNAPSHOT and (
        spec.cut is Cut.BY_INCIDENT or first_present(columns, spec.start_columns)
    ):
        data.previous_rows, _ = _cut(spec, columns, all_rows, previous, before_ids)
    return data


def _art4_groups_formed_in(rows: list[Row], period: Period) -> set[Any]:
    """IR Art. 4 groups (recurring incidents, one significant incident) whose clocks started
    in the period: their deadline rows belong to it although no register row carries them."""
    found = set()
    for row in rows:
        if row.get("reportable_type") == "art4_group" and row.get("stage") == "early_warning":
            anchor = to_moment(row.get("anchor_at"))
            if anchor is not None and period.start <= anchor < period.end:
                found.add(row.get("incident_id"))
    return found


def _cut(
    spec: MartSpec,
    columns: list[str],
    rows: list[Row],
    period: Period,
    incident_ids: set[Any] | None,
) -> tuple[list[Row], str]:
    if spec.cut is Cut.SNAPSHOT:
        return rows, "current state at generation time (not cut by period)"
    if spec.cut is Cut.BY_INCIDENT:
        if "incident_id" not in columns or incident_ids is None:
            return rows, "no incident_id column: every row shown"
        wanted = incident_ids | _art4_groups_formed_in(rows, period)
        return (
            [row for row in rows if row.get("incident_id") in wanted],
            "rows of the incidents in this period's register",
        )
    starts = [c for c in spec.start_columns if c in columns]
    if not starts:
        wanted = ", ".join(spec.start_columns)
        return rows, f"no time column ({wanted}) found: every row shown"
    ends = [c for c in spec.end_columns if c in columns]
    if spec.cut is Cut.AT:
        kept = [row for row in rows if _inside(period, _coalesce(row, starts))]
        return kept, f"{_names(starts)} within the period"
    kept = [row for row in rows if _overlaps(period, _coalesce(row, starts), _coalesce(row, ends))]
    return kept, f"{_names(starts)} to {_names(ends) or 'open end'} overlapping the period"


def _undated(spec: MartSpec, columns: list[str], rows: list[Row]) -> list[Row]:
    """Rows of a time-cut mart that no period can hold: their time columns are all empty
    or unreadable. They are named in the pack instead of vanishing."""
    starts = [c for c in spec.start_columns if c in columns]
    if spec.cut not in {Cut.AT, Cut.OVERLAP} or not starts:
        return []
    return [row for row in rows if to_moment(_coalesce(row, starts)) is None]


def _names(columns: list[str]) -> str:
    if len(columns) < 2:
        return "".join(columns)
    return f"{columns[0]} (else {', else '.join(columns[1:])})"


def _coalesce(row: Row, columns: list[str]) -> Any:
    """The first non-empty value among the columns (e.g. aware_at, else detected_at)."""
    return next((row[c] for c in columns if row.get(c) not in (None, "")), None)


def _inside(period: Period, value: Any) -> bool:
    moment = to_moment(value)
    return moment is not None and period.contains(moment)


def _overlaps(period: Period, begin: Any, finish: Any) -> bool:
    start = to_moment(begin)
    return start is not None and period.overlaps(start, to_moment(finish))


def newest(rows: Iterable[Mapping[str, Any]], columns: list[str]) -> datetime | None:
    """The newest moment among the columns of the rows: how fresh a mart's evidence is."""
    moments = [m for row in rows for c in columns if (m := to_moment(row.get(c))) is not None]
    return max(moments, default=None)
