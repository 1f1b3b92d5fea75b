"""KYC and KYB verification sessions with their status flows and everything they cause.

One session is drawn entirely from its creation day's RNG: later status changes, reviews,
webhook deliveries, cases and blocklist entries are timestamped ahead and dropped if they
fall after ``end``, so the status a client sees is the status as of ``end``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from simulator.audit_entries import audit_row, key_call, member_call
from simulator.clock import iso_micro, new_uuid
from simulator.didit_store import to_json
from simulator.organisation import Organisation
from simulator.people import (
    COMPANY_KINDS,
    COMPANY_WORDS,
    COUNTRIES,
    DOCUMENT_TYPES,
    FIRST_NAMES,
    KYB_COUNTRIES,
    LAST_NAMES,
)

MIN = 60_000_000  # microseconds
HOUR = 60 * MIN
DAY = 24 * HOUR
KYC_FEATURES = ("ID_VERIFICATION", "LIVENESS", "FACE_MATCH", "AML", "IP_ANALYSIS")
_COUNTRY_CODES = [c for c, _ in COUNTRIES]
_COUNTRY_WEIGHTS = [w for _, w in COUNTRIES]
REVIEWERS = ("compliance.officer@example.org", "ben.keller@example.org", "ana.ruiz@example.org")


@dataclass
class Rows:
    """Rows for every table, plus the audit log, accumulated over the generated days."""

    audit: list[tuple] = field(default_factory=list)
    sessions: list[dict] = field(default_factory=list)  # assembled into rows at the end
    reviews: list[tuple] = field(default_factory=list)
    deliveries: list[tuple] = field(default_factory=list)
    cases: list[tuple] = field(default_factory=list)
    case_events: list[tuple] = field(default_factory=list)
    list_entries: list[tuple] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """What session generation needs to know about the world."""

    org: Organisation
    end_us: int
    kyc_workflow: str
    kyb_workflow: tuple[str, str]  # uuid, label
    destinations: list[tuple[str, bool]]  # (uuid, affected by the outage)
    outage: tuple[int, int]
    face_blocklist: str
    customer_pool: int


def business_hours_after(ts_us: int, rng: random.Random, min_delay_h: float = 1) -> int:
    """A time during office hours (08-18 UTC, Mon-Fri) at least ``min_delay_h`` later."""
    t = ts_us + int(min_delay_h * HOUR)
    for _ in range(10):
        day0 = t - t % DAY
        weekday = (day0 // DAY + 3) % 7  # 1970-01-01 was a Thursday
        hour = (t - day0) / HOUR
        if weekday < 5 and 8 <= hour < 18:
            return t
        t = day0 + DAY + 8 * HOUR if hour >= 18 or weekday >= 5 else day0 + 8 * HOUR
        t += rng.randrange(0, 2 * HOUR)
    return t


def _delivery(rng, ctx: Context, rows: Rows, session_id: str, ts_us: int) -> None:
    """Deliver one `status.updated` webhook to every destination, retrying on failure."""
    for dest, affected in ctx.destinations:
        t = ts_us + rng.randrange(500_000, 3_000_000)
        for attempt in (1, 2, 3):
            failing = affected and ctx.outage[0] <= t < ctx.outage[1]
            if failing and rng.random() < 0.5:
                status, elapsed, error = None, 10_000, "Timeout after 10 seconds"
            elif failing:
                status, elapsed, error = 503, rng.randrange(20, 80), "HTTP 503 Service Unavailable"
            else:
                status, elapsed, error = 200, rng.randrange(60, 420), None
            uid = new_uuid(rng)  # drawn even after `end`: the RNG must not depend on it
            ts = iso_micro(t)
            if t <= ctx.end_us:
                body = {
                    "uuid": uid,
                    "destination_uuid": dest,
                    "webhook_type": "status.updated",
                    "session_id": session_id,
                    "http_status": status,
                    "response_time_ms": elapsed,
                    "attempt": attempt,
                    "is_retry": attempt > 1,
                    "error": error,
                    "created_at": ts,
                }
                rows.deliveries.append((uid, dest, ts, to_json(body)))
            if status == 200:
                break
            t += (60 if attempt == 1 else 240) * 1_000_000  # Didit: retry after ~1, then ~4 min


def _review(rng, rows, sid, ts_us, activity, actor_type, email, display, **extra) -> None:
    uid = new_uuid(rng)
    body = {
        "uuid": uid,
        "activity_type": activity,
        "actor_display": display,
        "actor_email": email,
        "actor_type": actor_type,
        "new_status": extra.get("new_status"),
        "previous_status": extra.get("previous_status"),
        "comment": extra.get("comment"),
        "mentioned_emails": [],
        "previous_value": extra.get("previous_value"),
        "new_value": extra.get("new_value"),
        "changed_fields": extra.get("changed_fields", []),
        "metadata": extra.get("metadata"),
        "created_at": iso_micro(ts_us),
    }
    rows.reviews.append((uid, sid, body["created_at"], to_json(body)))


def _status_review(
    rng, rows, sid, ts_us, actor_type, email, display, prev, status, comment=None
) -> None:
    _review(
        rng,
        rows,
        sid,
        ts_us,
        "STATUS_UPDATED",
        actor_type,
        email,
        display,
        new_status=status,
        previous_status=prev,
        changed_fields=["status"],
        previous_value={"status": prev},
        new_value={"status": status},
        comment=comment,
    )


DETAIL_VIEWED = {"system_event": "DETAIL_VIEWED", "detail_type": "verification"}


def detail_view(rng, ctx: Context, rows: Rows, member, sid: str, ts_us: int) -> None:
    """A Console member opens a KYC session: an audit-log GET plus a DETAIL_VIEWED review."""
    org = ctx.org
    app = org.live_app
    path = f"/v1/organization/{org.organization_id}/application/{app[0]}/sessions/{sid}/"
    member_call(rng, rows.audit, ts_us, member, "GET", path, 200, app)
    _review(
        rng,
        rows,
        sid,
        ts_us + 150_000,
        "COMMENT",
        "CONSOLE_USER",
        member.email,
        member.name,
        metadata=DETAIL_VIEWED,
    )


def _plan_kyc(rng: random.Random, t0: int) -> tuple[list[tuple[int, str, str]], bool]:
    """Status transitions [(ts, status, who)] and whether AML produced hits."""
    start = t0 + rng.randrange(MIN, 30 * MIN)
    done = start + rng.randrange(3 * MIN, 40 * MIN)
    r = rng.random()
    plan = [(t0, "Not Started", "system"), (start, "In Progress", "system")]
    aml_hit = False
    if r < 0.60:
        plan.append((done, "Approved", "system"))
    elif r < 0.70:
        aml_hit = rng.random() < 0.3
        plan.append((done, "Declined", "system"))
    elif r < 0.84:
        aml_hit = rng.random() < 0.5
        plan.append((done, "In Review", "system"))
        decided = business_hours_after(done, rng, rng.uniform(0.5, 20))
        who = "investigator" if rng.random() < 0.3 else rng.choice(REVIEWERS)
        plan.append((decided, "Approved" if rng.random() < 0.7 else "Declined", who))
    elif r < 0.92:
        plan.append((start + DAY, "Abandoned", "system"))
    elif r < 0.97:
        plan = [(t0, "Not Started", "system"), (t0 + 7 * DAY, "Expired", "system")]
    else:
        plan.append((done, "In Review", "system"))
        resub = business_hours_after(done, rng, 2)
        plan.append((resub, "Resubmitted", rng.choice(REVIEWERS)))
        plan.append((resub + rng.randrange(HOUR, DAY), "Approved", "system"))
    return plan, aml_hit


def _feature_status(status: str, feature: str, aml_hit: bool) -> str:
    if status in ("Not Started", "In Progress", "Abandoned", "Expired"):
        return "Not Finished"
    if feature == "AML" and aml_hit:
        return "In Review" if status == "In Review" else status
    return "Approved" if status != "Declined" or feature != "FACE_MATCH" else "Declined"


def kyc_session(rng: random.Random, ctx: Context, rows: Rows, t0: int) -> None:
    """One KYC session created at ``t0`` by the backend, with all its consequences."""
    org = ctx.org
    app = org.live_app
    backend = org.key("Backend production")
    sid = new_uuid(rng)
    vendor = f"cust-{rng.randrange(ctx.customer_pool):06d}"
    full_name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    country = rng.choices(_COUNTRY_CODES, _COUNTRY_WEIGHTS)[0]
    doc = rng.choice(DOCUMENT_TYPES)
    plan, aml_hit = _plan_kyc(rng, t0)
    body = {"workflow_id": ctx.kyc_workflow, "vendor_data": vendor, "callback": "https://"}
    key_call(rng, rows.audit, t0, backend, "POST", "/v3/session/", 201, app, body)
    prev = None
    review_log = []
    for ts, status, who in plan[1:]:  # all of the plan; rows after `end` are dropped later
        _delivery(rng, ctx, rows, sid, ts)
        if who == "system" and status == "In Review":
            _status_review(rng, rows, sid, ts, "SYSTEM", None, "System", prev, status)
        elif who == "investigator":
            report = f"https://business.didit.me/investigator/reports/{new_uuid(rng)}/"
            rows.audit.append(
                audit_row(
                    rng,
                    ts,
                    "INVESTIGATOR",
                    "Investigator",
                    "PATCH",
                    f"/v3/session/{sid}/update-status/",
                    200,
                    "10.20.0.5",
                    None,
                    None,
                    app,
                    {"new_status": status},
                    report,
                )
            )
            _status_review(
                rng,
                rows,
                sid,
                ts,
                "SYSTEM",
                None,
                "Investigator",
                prev,
                status,
                "Decision taken by the Investigator agent.",
            )
            review_log.append(("Investigator", status, ts))
        elif who != "system":
            member = org.member(who)
            detail_view(rng, ctx, rows, member, sid, ts - rng.randrange(MIN, 8 * MIN))
            path = (
                f"/v1/organization/{org.organization_id}/application/{app[0]}"
                f"/sessions/{sid}/update-status/"
            )
            member_call(
                rng,
                rows.audit,
                ts,
                member,
                "PATCH",
                path,
                200,
                app,
                {"new_status": status, "comment": "..."},
            )
            comment = (
                "Documents re-checked; consistent."
                if status != "Declined"
                else ("AML hit confirmed." if aml_hit else "Document inconsistencies.")
            )
            _status_review(
                rng,
                rows,
                sid,
                ts + 200_000,
                "CONSOLE_USER",
                member.email,
                member.name,
                prev,
                status,
                comment,
            )
            review_log.append((member.email, status, ts))
        prev = status
    # Consequences follow the plan's final outcome; what is after `end` is filtered later.
    final_ts, final = plan[-1][0], plan[-1][1]
    if final in ("Approved", "Declined"):
        poll = final_ts + rng.randrange(2_000_000, 60_000_000)
        key_call(rng, rows.audit, poll, backend, "GET", f"/v3/session/{sid}/decision/", 200, app)
    if final == "Declined" and aml_hit:
        _aml_case(rng, ctx, rows, sid, vendor, final_ts)
    if final == "Declined" and rng.random() < 0.4:
        _blocklist_face(rng, ctx, rows, sid, final_ts + MIN)
    status = ([st for ts, st, _ in plan if ts <= ctx.end_us] or ["Not Started"])[-1]
    finished = status not in ("Not Started", "In Progress")
    features = [{"feature": f, "status": _feature_status(status, f, aml_hit)} for f in KYC_FEATURES]
    row = {
        "session_id": sid,
        "session_kind": "user",
        "session_number": 0,
        "session_url": f"https://verify.didit.me/session/{sid}",
        "portrait_image": None,
        "document_type": doc if finished else None,
        "full_name": full_name if finished else None,
        "country": country if finished else None,
        "status": status,
        "vendor_data": vendor,
        "didit_internal_id": None,
        "created_at": iso_micro(t0),
        "features": features,
        "phone_number": None,
        "email_address": {"email": f"{vendor}@customers.example.net", "is_verified": finished},
        "additional_details": {
            "aml": {
                "total_hits": int(aml_hit),
                "entity_type": "person",
                "is_adverse_media_fetched": False,
            }
        }
        if finished
        else None,
    }
    reviews = [r for r in review_log if r[2] <= ctx.end_us]
    rows.sessions.append(
        {"row": row, "t0": t0, "reviews": reviews, "aml_hit": aml_hit, "expires": t0 + 7 * DAY}
    )


def _aml_case(rng, ctx: Context, rows: Rows, sid: str, vendor: str, ts: int) -> None:
    org = ctx.org
    app_id, app_name = org.live_app
    officer = org.member("compliance.officer@example.org")
    cid = new_uuid(rng)
    times = [ts + MIN, business_hours_after(ts, rng, 1), 0, 0]
    times[2] = times[1] + rng.randrange(HOUR, 4 * HOUR)
    times[3] = business_hours_after(times[2], rng, rng.uniform(4, 60))
    resolved = times[3] <= ctx.end_us
    events = [
        ("CREATED", None, None, None, "OPEN", times[0]),
        ("ASSIGNED", officer.email, officer.name, None, None, times[1]),
        ("NOTE_ADDED", officer.email, officer.name, None, None, times[2]),
        ("RESOLVED", officer.email, officer.name, "OPEN", "RESOLVED", times[3]),
    ]
    for etype, email, name, prev, new, t in events:  # events after `end` are dropped later
        uid = new_uuid(rng)
        ev = {
            "uuid": uid,
            "event_type": etype,
            "actor_email": email,
            "actor_name": name,
            "previous_status": prev,
            "new_status": new,
            "metadata": {},
            "created_at": iso_micro(t),
        }
        rows.case_events.append((uid, cid, ev["created_at"], to_json(ev)))
    if times[0] > ctx.end_us:
        return
    assigned = times[1] <= ctx.end_us
    last = max(t for t in times if t <= ctx.end_us)
    case = {
        "uuid": cid,
        "case_number": None,
        "title": "AML screening hit",
        "status": "RESOLVED" if resolved else "OPEN",
        "resolution": "VALID_THREAT" if resolved else None,
        "priority": "HIGH",
        "source": "AML_SCREENING",
        "tags": ["aml"],
        "subject": {"session_id": sid, "vendor_data": vendor},
        "assigned_to": {"email": officer.email, "name": officer.name} if assigned else None,
        "assigned_at": iso_micro(times[1]) if assigned else None,
        "due_at": iso_micro(times[0] + 5 * DAY),
        "resolved_at": iso_micro(times[3]) if resolved else None,
        "created_by_email": None,
        "created_by_name": None,
        "blueprint": None,
        "links_count": 1,
        "notes_count": int(times[2] <= ctx.end_us),
        "created_at": iso_micro(times[0]),
        "updated_at": iso_micro(last),
        "application_id": app_id,
        "application_name": app_name,
        "organization_id": org.organization_id,
        "organization_name": org.organization_name,
    }
    rows.cases.append((cid, case["created_at"], case["status"], case["priority"], to_json(case)))


def _blocklist_face(rng, ctx: Context, rows: Rows, sid: str, ts: int) -> None:
    uid = new_uuid(rng)
    entry = {
        "uuid": uid,
        "list_uuid": ctx.face_blocklist,
        "entry_type": "face",
        "value": f"face:{sid}",
        "session_id": sid,
        "comment": "Declined verification",
        "created_by_email": None,
        "created_at": iso_micro(ts),
    }
    rows.list_entries.append((uid, ctx.face_blocklist, entry["created_at"], to_json(entry)))


def kyb_session(rng: random.Random, ctx: Context, rows: Rows, t0: int) -> None:
    """A business (KYB) session: no reviews feed (Didit returns 404 for KYB there)."""
    org = ctx.org
    app = org.kyb_app
    backend = org.key("Backend production")
    sid = new_uuid(rng)
    vendor = f"partner-{rng.randrange(ctx.customer_pool // 5 + 10):05d}"
    key_call(
        rng,
        rows.audit,
        t0,
        backend,
        "POST",
        "/v3/session/",
        201,
        app,
        {"workflow_id": ctx.kyb_workflow[0], "vendor_data": vendor},
    )
    done = business_hours_after(t0, rng, rng.uniform(1, 48))
    outcome = "Approved" if rng.random() < 0.8 else rng.choice(("Declined", "In Review"))
    plan = [(t0, "Not Started"), (t0 + rng.randrange(MIN, HOUR), "In Progress"), (done, outcome)]
    for ts, _ in plan[1:]:
        _delivery(rng, ctx, rows, sid, ts)
    word, kind = rng.choice(COMPANY_WORDS), rng.choice(COMPANY_KINDS)
    seen = [(ts, st) for ts, st in plan if ts <= ctx.end_us] or plan[:1]
    row = {
        "session_id": sid,
        "session_kind": "business",
        "session_number": 0,
        "status": seen[-1][1],
        "vendor_data": vendor,
        "created_at": iso_micro(t0),
        "workflow_id": ctx.kyb_workflow[0],
        "workflow_type": "kyb",
        "workflow_label": ctx.kyb_workflow[1],
        "company_name": f"{word} {kind}",
        "registration_number": f"HRB{rng.randrange(10000, 99999)}",
        "country": rng.choice(KYB_COUNTRIES),
    }
    rows.sessions.append(
        {"row": row, "t0": t0, "reviews": [], "aml_hit": False, "expires": t0 + 30 * DAY}
    )
