"""Generate the Didit side of the world into the simulator's SQLite data folder."""

from __future__ import annotations

import random
import sys
from datetime import date, datetime
from pathlib import Path

import orjson

from simulator import didit_config as conf
from simulator import didit_derived as derived
from simulator import didit_scenarios as scen
from simulator.clock import day_start, iso_micro, slot_rng, to_epoch_us
from simulator.didit_sessions import Context, Rows, kyb_session, kyc_session
from simulator.didit_store import create_store, finish_store, insert_rows, to_json
from simulator.didit_traffic import (
    api_noise,
    console_day,
    nightly_reporting_sync,
    session_start_times,
)
from simulator.organisation import Organisation
from simulator.schedule import Schedule, period_days


def _rng(seed: int, slot: str) -> random.Random:
    return slot_rng(seed, slot, "didit")


SESSIONS_PER_API_CALL = 1 / 55  # each session costs a few API calls; the rest is polling


def _day_factor(d: date) -> float:
    return 1.0 if d.weekday() < 5 else 0.45


def _poissonish(rng, mean: float) -> int:
    """Integer near ``mean`` (cheap and deterministic; exact Poisson is not needed)."""
    whole = int(mean)
    return whole + (1 if rng.random() < mean - whole else 0)


def _members_at_work(org: Organisation, d: date, sched: Schedule) -> list:
    out = []
    for m in org.members:
        if m.employment_end and d > m.employment_end:
            if d.weekday() == 0:  # the leaver's account still works: weekly look-ins
                out.append((m, 2))
            continue
        if d.weekday() < 5:
            out.append((m, 12 if m.role in ("Compliance Officer", "Admin") else 6))
    return out


def _progress(i: int, total: int) -> None:
    if total >= 60 and (i + 1) % max(1, total // 10) == 0:
        print(f"  didit: {i + 1}/{total} days", file=sys.stderr, flush=True)


def generate_didit(
    out_dir: Path,
    seed: int,
    org: Organisation,
    sched: Schedule,
    api_calls_per_day: int,
    end: datetime,
) -> dict:
    """Write ``out_dir/didit.sqlite`` + ``organisation.json``; return facts for ground truth."""
    end_us = to_epoch_us(end)
    wfs = conf.workflows(seed, org, sched, end_us)
    dests = conf.destinations(seed, sched)
    list_rows, list_entries = conf.lists(seed, org, sched, end_us)
    face = next(x["uuid"] for x in list_rows if x["name"] == "Face blocklist")
    kyc_wf = next(w["workflow_id"] for w in wfs if w["workflow_label"] == "Standard KYC")
    kyb_wf = next(w for w in wfs if w["workflow_label"] == "Standard KYB")
    ctx = Context(
        org=org,
        end_us=end_us,
        kyc_workflow=kyc_wf,
        kyb_workflow=(kyb_wf["workflow_id"], kyb_wf["workflow_label"]),
        destinations=[(dests[0]["uuid"], True), (dests[1]["uuid"], False)],
        outage=(to_epoch_us(sched.webhook_outage.start), to_epoch_us(sched.webhook_outage.end)),
        face_blocklist=face,
        customer_pool=max(50, int(api_calls_per_day * SESSIONS_PER_API_CALL * sched.days * 0.8)),
    )
    rows = Rows()
    facts: dict = {}
    days = period_days(sched, end_us)
    for i, d in enumerate(days):
        rng = _rng(seed, d.isoformat())
        factor = _day_factor(d) * rng.uniform(0.9, 1.1)
        mean_kyc = api_calls_per_day * SESSIONS_PER_API_CALL * factor
        n_kyc, n_kyb = _poissonish(rng, mean_kyc), _poissonish(rng, mean_kyc / 6)
        todays: list[tuple[int, str]] = []
        for t0 in session_start_times(rng, d, n_kyc):  # also after `end`: dropped on writing
            kyc_session(rng, ctx, rows, t0)
            todays.append((t0, rows.sessions[-1]["row"]["session_id"]))
        for t0 in session_start_times(rng, d, n_kyb):
            kyb_session(rng, ctx, rows, t0)
        for member, pages in _members_at_work(org, d, sched):
            console_day(rng, ctx, rows, d, member, todays, pages)
        nightly_reporting_sync(rng, ctx, rows, d)
        noise = int(api_calls_per_day * factor) - 3 * n_kyc - 2 * n_kyb - 8
        api_noise(rng, ctx, rows, d, max(0, noise), [sid for _, sid in todays])
        _planted(seed, d, ctx, rows, sched, facts)
        _progress(i, len(days))
    return _write(
        out_dir, seed, org, sched, end, ctx, rows, wfs, dests, list_rows, list_entries, facts
    )


def _kyc_before(rows: Rows, ts: datetime) -> list[str]:
    limit = to_epoch_us(ts)
    return [
        s["row"]["session_id"]
        for s in rows.sessions
        if s["row"]["session_kind"] == "user" and s["t0"] < limit
    ]


def _planted(seed: int, d: date, ctx: Context, rows: Rows, sched: Schedule, facts: dict):
    """Run the Didit side of each scenario on its day (each with its own RNG)."""

    def rng(name: str):
        return _rng(seed, f"scenario:{name}")

    if d == sched.brute_force.start.date():
        scen.brute_force(rng("brute_force"), rows, sched)
    if d == sched.password_spray.start.date():
        scen.password_spray(rng("password_spray"), rows, sched)
    if d == sched.bulk_read.start.date():
        viewed = scen.bulk_read(
            rng("bulk_read"), ctx, rows, sched, _kyc_before(rows, sched.bulk_read.start)
        )
        facts["bulk_read_sessions"] = len(viewed)
    if d == sched.key_misuse.start.date():
        taken = scen.key_misuse(
            rng("key_misuse"), ctx, rows, sched, _kyc_before(rows, sched.key_misuse.start)
        )
        facts["key_misuse_decisions"] = len(taken)
    if d == sched.unapproved_grant.date():
        scen.unapproved_grant(rng("unapproved_grant"), ctx, rows, sched)


def _write(
    out_dir, seed, org, sched, end, ctx, rows: Rows, wfs, dests, list_rows, list_entries, facts
) -> dict:
    end_iso = iso_micro(ctx.end_us)
    rows.sessions = [s for s in rows.sessions if s["t0"] <= ctx.end_us]
    conn = create_store(out_dir)
    audit = [r for r in rows.audit if r[1] <= end_iso]
    insert_rows(conn, "audit_log", audit)
    wf_label = {w["workflow_id"]: w["workflow_label"] for w in wfs}
    session_rows, docs = [], []
    for kind in ("user", "business"):
        mine = sorted(
            (s for s in rows.sessions if s["row"]["session_kind"] == kind),
            key=lambda s: (s["t0"], s["row"]["session_id"]),
        )
        for number, s in enumerate(mine, start=1):
            row = s["row"]
            row["session_number"] = number
            if kind == "user" and row["status"] not in ("Not Started", "In Progress"):
                row["didit_internal_id"] = derived.user_id(seed, row["vendor_data"])
            dec = derived.decision(s, wf_label.get(row.get("workflow_id") or ctx.kyc_workflow, ""))
            session_rows.append(
                (
                    row["session_id"],
                    kind,
                    number,
                    row["created_at"],
                    row["status"],
                    row["vendor_data"],
                    row.get("workflow_id") or ctx.kyc_workflow,
                    row["country"],
                    row.get("didit_internal_id"),
                    0,
                )
            )
            docs.append((row["session_id"], to_json(row), to_json(dec)))
    insert_rows(conn, "sessions", session_rows)
    insert_rows(conn, "session_docs", docs)
    kyc = [s for s in rows.sessions if s["row"]["session_kind"] == "user"]
    kyb = [s for s in rows.sessions if s["row"]["session_kind"] == "business"]
    reviews = [r for r in rows.reviews if r[2] <= end_iso]
    insert_rows(conn, "reviews", reviews)
    insert_rows(conn, "users", derived.users(seed, kyc))
    insert_rows(conn, "businesses", derived.businesses(seed, kyb))
    insert_rows(
        conn,
        "workflows",
        [
            (
                w["uuid"],
                w["created_at"],
                to_json({k: v for k, v in w.items() if k != "created_at"}),
            )
            for w in wfs
        ],
    )
    deliveries = [r for r in rows.deliveries if r[2] <= end_iso]
    conf.destination_metrics(dests, deliveries, ctx.end_us)
    insert_rows(conn, "destinations", [(x["uuid"], x["created_at"], to_json(x)) for x in dests])
    insert_rows(conn, "deliveries", deliveries)
    insert_rows(conn, "cases", rows.cases)
    insert_rows(conn, "case_events", [r for r in rows.case_events if r[2] <= end_iso])
    entries = list_entries + [r for r in rows.list_entries if r[2] <= end_iso]
    for lst in list_rows:
        mine = [r for r in entries if r[1] == lst["uuid"]]
        lst["entries_count"] = len(mine)
        lst["updated_at"] = max([lst["updated_at"], *(r[2] for r in mine)])
    insert_rows(conn, "lists", [(x["uuid"], x["created_at"], to_json(x)) for x in list_rows])
    insert_rows(conn, "list_entries", entries)
    meta = {
        "organisation": org.public(),
        "seed": seed,
        "start": sched.start.isoformat(),
        "days": sched.days,
        "end": end_iso,
        "delivery_retention_days": conf.DELIVERY_RETENTION_DAYS,
        "billing_balance": derived.billing_balance(len(kyc), len(kyb)),
    }
    conn.executemany("INSERT INTO kv VALUES (?, ?)", [(k, to_json(v)) for k, v in meta.items()])
    finish_store(conn)
    public = {
        **org.public(),
        "seed": seed,
        "anchor": {"start": sched.start.isoformat(), "days": sched.days},
        "end": end_iso,
    }
    (out_dir / "organisation.json").write_bytes(orjson.dumps(public, option=orjson.OPT_INDENT_2))
    retained_since = iso_micro(ctx.end_us - conf.DELIVERY_RETENTION_DAYS * 86_400_000_000)
    return {
        **facts,
        "counts": {
            "didit.audit_logs": len(audit),
            "didit.sessions": len(session_rows),
            "didit.sessions_user": len(kyc),
            "didit.sessions_business": len(kyb),
            "didit.session_decisions": len(session_rows),
            "didit.session_reviews": len(reviews),
            "didit.workflows": len(wfs),
            "didit.users": len({s["row"]["vendor_data"] for s in kyc}),
            "didit.businesses": len({s["row"]["vendor_data"] for s in kyb}),
            "didit.webhook_destinations": len(dests),
            "didit.webhook_deliveries": sum(1 for r in deliveries if r[2] >= retained_since),
            "didit.cases": len(rows.cases),
            "didit.case_events": sum(1 for r in rows.case_events if r[2] <= end_iso),
            "didit.lists": len(list_rows),
            "didit.list_entries": len(entries),
            "didit.billing_balance": 1,
        },
        "period_start": day_start(sched.start),
    }
