"""One command builds the whole simulated organisation: every source plus ground truth.

Layout (docs/contracts.md): ``didit/`` (simulator data), ``wazuh/alerts/alerts.json`` (live)
and ``wazuh/alerts/YYYY/Mon/*.json`` (archives),
``incidents/incident_register.csv``, ``keycloak/`` (DDL + rows), ``ground_truth.json``.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson

from simulator import keycloak_gen as kg
from simulator.clock import to_epoch_us
from simulator.didit_world import generate_didit
from simulator.ground_truth import build_ground_truth
from simulator.incidents_gen import define_incidents, write_register
from simulator.organisation import build_organisation
from simulator.schedule import Schedule, build_schedule, period_days
from simulator.wazuh_gen import (
    generate_wazuh,
    last_and_first_around_gap,
    read_alert_lines,
)

DEFAULT_DAYS = 365
DEFAULT_API_CALLS_PER_DAY = 60


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _anchor(out_dir: Path, seed: int, days: int, end: datetime, start: date | None) -> tuple:
    """Reuse the anchor of an earlier world with the same seed, so the past stays identical."""
    if start is not None:
        return start, days
    manifest = out_dir / "didit" / "organisation.json"
    if manifest.exists():
        old = orjson.loads(manifest.read_bytes())
        if old.get("seed") == seed and "anchor" in old:
            first = date.fromisoformat(old["anchor"]["start"])
            if first <= end.date():
                _log(f"reusing the anchor of the existing world in {out_dir} (start {first})")
                return first, int(old["anchor"]["days"])
    return (end - timedelta(days=days)).date(), days


def _link_alerts(incidents, alerts_root: Path) -> None:
    wanted = {rule for i in incidents for rule in i.linked_rules}
    hits: list[tuple[datetime, str, str]] = []
    for line in read_alert_lines(alerts_root):
        a = orjson.loads(line)
        if a["rule"]["id"] in wanted:
            ts = datetime.strptime(a["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
            hits.append((ts, a["rule"]["id"], a["id"]))
    for inc in incidents:
        lo, hi = inc.detected - timedelta(hours=6), inc.contained + timedelta(hours=1)
        inc.linked_alert_ids = [
            aid for ts, rule, aid in hits if rule in inc.linked_rules and lo <= ts <= hi
        ]


def generate_world(
    out_dir: Path,
    seed: int = 7,
    days: int = DEFAULT_DAYS,
    api_calls_per_day: int = DEFAULT_API_CALLS_PER_DAY,
    end: datetime | None = None,
    start: date | None = None,
) -> dict[str, Path]:
    """Generate every source of the organisation into ``out_dir``; return their paths.

    Deterministic: each day is drawn from an RNG seeded by (seed, day, stream) and scenarios
    are placed by the anchor (start day, planned days), so a later ``end`` reproduces the
    past exactly and only adds records. Nothing after ``end`` is ever written.
    """
    end = (end or datetime.now(UTC)).astimezone(UTC)
    if api_calls_per_day < 1:
        raise ValueError(f"api_calls_per_day={api_calls_per_day}: must be at least 1")
    out_dir = Path(out_dir)
    first, planned = _anchor(out_dir, seed, days, end, start)
    sched: Schedule = build_schedule(first, planned)
    if end <= sched.period_start:
        raise ValueError(f"end={end.isoformat()} is before the period start {first}")
    org = build_organisation(seed, sched.leaver_end)
    began = time.perf_counter()
    _log(
        f"generating the organisation (seed {seed}, {first} .. {end:%Y-%m-%dT%H:%M}Z, "
        f"{api_calls_per_day} API calls/day) into {out_dir}"
    )
    facts = generate_didit(out_dir / "didit", seed, org, sched, api_calls_per_day, end)
    counts = dict(facts.pop("counts"))
    _log(
        f"  didit: {counts['didit.audit_logs']} audit-log entries, "
        f"{counts['didit.sessions']} sessions"
    )
    days_list = period_days(sched, to_epoch_us(end))
    kc_dir = out_dir / "keycloak"
    counts.update(kg.generate_keycloak(kc_dir, org, sched, days_list, end))
    kc_rows = kg.KeycloakRows()
    for table in ("event_entity", "admin_event_entity"):
        kc_rows.tables[table] = [
            orjson.loads(x) for x in (kc_dir / f"{table}.jsonl").read_bytes().splitlines()
        ]
    users = {u.id: u.username for u in kg.build_users(org, sched)}
    admins = [(u.username, u.ip) for u in kg.build_users(org, sched) if "security-admin" in u.roles]
    alerts_path = out_dir / "wazuh" / "alerts"
    counts["wazuh.alerts"] = generate_wazuh(
        alerts_path, seed, sched, days_list, end, kc_rows, users, admins, kg.SPRAY_USERS
    )
    # Before the live file moved under alerts/ (Wazuh's layout), a cumulative copy lived here.
    (out_dir / "wazuh" / "alerts.json").unlink(missing_ok=True)
    facts["gap_last_before"], facts["gap_first_after"] = last_and_first_around_gap(
        alerts_path, sched
    )
    _log(
        f"  keycloak: {counts['keycloak.event_entity']} events; wazuh: "
        f"{counts['wazuh.alerts']} alerts"
    )
    incidents = define_incidents(sched, facts)
    _link_alerts(incidents, alerts_path)
    register = out_dir / "incidents" / "incident_register.csv"
    counts["incidents.incident_register"] = write_register(register, incidents, end)
    truth = build_ground_truth(seed, org, sched, end, incidents, facts, counts)
    truth_path = out_dir / "ground_truth.json"
    truth_path.write_bytes(orjson.dumps(truth, option=orjson.OPT_INDENT_2) + b"\n")
    _log(
        f"  {len(truth['scenarios'])} scenarios in ground_truth.json; done in "
        f"{time.perf_counter() - began:.1f} s"
    )
    return {
        "didit": out_dir / "didit",
        "wazuh": alerts_path,
        "incidents": register,
        "keycloak": kc_dir,
        "ground_truth": truth_path,
    }
