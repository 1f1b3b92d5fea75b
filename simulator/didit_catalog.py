"""Configuration-like Didit records (workflows, webhook destinations, lists) and the
records derived from sessions (decisions, users, businesses, billing balance)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

import orjson

from simulator.clock import iso_micro, new_uuid, slot_rng, to_epoch_us
from simulator.didit_sessions import DAY, KYC_FEATURES
from simulator.didit_store import to_json
from simulator.organisation import Organisation
from simulator.schedule import Schedule

DELIVERY_RETENTION_DAYS = 30  # Didit keeps webhook delivery records about 30 days


def _wf_body(
    rng,
    group: str,
    version: int,
    label: str,
    wtype: str | None,
    features: str,
    status: str,
    created_by: dict | None,
    ts_us: int,
    default: bool,
) -> dict:
    uid = group if version == 1 else new_uuid(rng)
    return {
        "uuid": uid,
        "workflow_id": group,
        "workflow_label": label,
        "workflow_type": wtype,
        "is_default": default,
        "is_archived": False,
        "is_white_label_enabled": False,
        "total_price": 0.15 if wtype == "kyc" else 0.5,
        "min_price": 0.15 if wtype == "kyc" else 0.5,
        "max_price": 0.35 if wtype == "kyc" else 0.5,
        "features": features,
        "is_simple_workflow": True,
        "is_editable": status == "draft",
        "workflow_url": f"https://verify.didit.me/u/{uid[:8]}",
        "max_retry_attempts": 3,
        "retry_window_days": 7,
        "session_expiration_time": 604800,
        "version": version,
        "status": status,
        "has_draft": False,
        "created_by": created_by,
        "updated_at": iso_micro(ts_us),
        "created_at": iso_micro(ts_us),
    }


def workflows(seed: int, org: Organisation, sched: Schedule, end_us: int) -> list[dict]:
    """Workflow versions: one row per version, with who created it."""
    rng = slot_rng(seed, "catalog", "workflows")
    start = to_epoch_us(sched.period_start)
    d = sched.days * DAY

    def by(email: str) -> dict:
        m = org.member(email)
        return {"name": m.name, "email": m.email, "type": "user"}

    kyc, aml, kyb, ci = (new_uuid(rng) for _ in range(4))
    plan = [
        (
            kyc,
            1,
            "Standard KYC",
            "kyc",
            "OCR + LIVENESS + FACE_MATCH",
            "published",
            by("ana.ruiz@example.org"),
            start - 200 * DAY,
            False,
        ),
        (
            kyc,
            2,
            "Standard KYC",
            "kyc",
            "OCR + LIVENESS + FACE_MATCH + AML",
            "published",
            by("dev.patel@example.org"),
            start - 60 * DAY,
            False,
        ),
        (
            kyc,
            3,
            "Standard KYC",
            "kyc",
            "OCR + LIVENESS + FACE_MATCH + AML + IP_ANALYSIS",
            "published",
            by("dev.patel@example.org"),
            start + int(0.30 * d),
            True,
        ),
        (
            aml,
            1,
            "KYC + AML enhanced",
            "kyc",
            "OCR + LIVENESS + FACE_MATCH + AML",
            "published",
            by("eva.lind@example.org"),
            start - 120 * DAY,
            False,
        ),
        (
            kyb,
            1,
            "Standard KYB",
            "kyb",
            "KYB_REGISTRY",
            "published",
            by("ben.keller@example.org"),
            start - 150 * DAY,
            False,
        ),
        (
            kyb,
            2,
            "Standard KYB",
            "kyb",
            "KYB_REGISTRY + AML",
            "draft",
            by("ben.keller@example.org"),
            start + int(0.58 * d),
            False,
        ),
        (
            ci,
            1,
            "CI smoke workflow",
            "kyc",
            "OCR",
            "published",
            {"name": "CI smoke tests", "email": None, "type": "api_key"},
            start - 30 * DAY,
            False,
        ),
    ]
    out = [w for w in (_wf_body(rng, *p) for p in plan) if w["created_at"] <= iso_micro(end_us)]
    drafts = {w["workflow_id"] for w in out if w["status"] == "draft"}
    for w in out:
        w["has_draft"] = w["workflow_id"] in drafts
    return out


def destinations(seed: int, sched: Schedule) -> list[dict]:
    rng = slot_rng(seed, "catalog", "destinations")
    start = to_epoch_us(sched.period_start)
    out = []
    for i, (label, url, events) in enumerate(
        (
            (
                "Backend status updates",
                "https://api.example.org/webhooks/didit/",
                ["status.updated", "data.updated"],
            ),
            ("Risk engine", "https://risk.example.org/hooks/didit/", ["status.updated"]),
        )
    ):
        ts = iso_micro(start - (90 - 30 * i) * DAY)
        out.append(
            {
                "uuid": new_uuid(rng),
                "label": label,
                "url": url,
                "enabled": True,
                "webhook_version": "v3",
                "subscribed_events": events,
                "subscribed_events_count": len(events),
                "deliveries_count": 0,
                "failed_deliveries_count": 0,
                "average_response_time_ms": None,
                "error_rate_percentage": 0,
                "last_delivery_at": None,
                "created_at": ts,
                "updated_at": ts,
            }
        )
    return out


def destination_metrics(dests: list[dict], deliveries: list[tuple], end_us: int) -> None:
    """Fill the 30-day delivery metrics the list endpoint reports."""
    since = iso_micro(end_us - DELIVERY_RETENTION_DAYS * DAY)
    for dest in dests:
        mine = [orjson.loads(b) for _, d, ts, b in deliveries if d == dest["uuid"] and ts >= since]
        failed = [x for x in mine if x["http_status"] != 200]
        times = [x["response_time_ms"] for x in mine]
        dest["deliveries_count"] = len(mine)
        dest["failed_deliveries_count"] = len(failed)
        dest["average_response_time_ms"] = sum(times) // len(times) if times else None
        dest["error_rate_percentage"] = round(100 * len(failed) / len(mine)) if mine else 0
        dest["last_delivery_at"] = max((x["created_at"] for x in mine), default=None)


def lists(seed: int, org: Organisation, sched: Schedule, end_us: int) -> tuple[list, list]:
    """Lists and their manual entries (face-blocklist entries come from declined sessions)."""
    rng = slot_rng(seed, "catalog", "lists")
    start = to_epoch_us(sched.period_start)
    defs = [
        ("Face blocklist", "blocklist", "face", True, None, start - 300 * DAY, []),
        ("Email blocklist", "blocklist", "email", True, None, start - 300 * DAY, []),
        (
            "Trusted partners",
            "allowlist",
            "business",
            False,
            "ana.ruiz@example.org",
            start - 40 * DAY,
            ["partner-00017", "partner-00042", "partner-00101"],
        ),
        (
            "High-risk countries",
            "custom",
            "country",
            False,
            "compliance.officer@example.org",
            start + int(0.25 * sched.days) * DAY + 11 * 3600 * 10**6,
            ["IRN", "PRK", "MMR", "SYR"],
        ),
    ]
    out, entries = [], []
    for name, ltype, etype, system, creator, ts, values in defs:
        uid = new_uuid(rng)
        out.append(
            {
                "uuid": uid,
                "name": name,
                "list_type": ltype,
                "entry_type": etype,
                "description": None,
                "is_system": system,
                "entries_count": 0,
                "created_by_email": creator,
                "created_at": iso_micro(ts),
                "updated_at": iso_micro(ts),
            }
        )
        for i, value in enumerate(values):
            eid = new_uuid(rng)
            entries.append(
                (
                    eid,
                    uid,
                    iso_micro(ts + i * 1_000_000),
                    to_json(
                        {
                            "uuid": eid,
                            "list_uuid": uid,
                            "entry_type": etype,
                            "value": value,
                            "session_id": None,
                            "comment": None,
                            "created_by_email": creator,
                            "created_at": iso_micro(ts + i * 1_000_000),
                        }
                    ),
                )
            )
    last = iso_micro(end_us)  # drawn for every list first, so `end` never shifts the RNG
    return [x for x in out if x["created_at"] <= last], [e for e in entries if e[2] <= last]


def user_id(seed: int, vendor: str) -> str:
    return new_uuid(slot_rng(seed, vendor, "didit_internal_id"))


def decision(sess: dict, workflow_label: str) -> dict:
    """The decision payload for a session, consistent with its list row."""
    row = sess["row"]
    kyc = row["session_kind"] == "user"
    status = row["status"]
    out = {
        "session_id": row["session_id"],
        "session_kind": row["session_kind"],
        "session_number": row["session_number"],
        "session_url": f"https://verify.didit.me/session/{row['session_id']}",
        "status": status,
        "environment": "live",
        "workflow_id": row.get("workflow_id"),
        "features": list(KYC_FEATURES) if kyc else ["KYB_REGISTRY"],
        "vendor_data": row["vendor_data"],
        "metadata": {"workflow_label": workflow_label},
        "expected_details": None,
        "contact_details": None,
        "callback": None,
        "id_verifications": None,
        "nfc_verifications": None,
        "liveness_checks": None,
        "face_matches": None,
        "phone_verifications": None,
        "email_verifications": None,
        "poa_verifications": None,
        "document_ai_documents": None,
        "questionnaire_responses": None,
        "aml_screenings": None,
        "ip_analyses": None,
        "database_validations": None,
        "reviews": [
            {"user": who, "new_status": st, "comment": None, "created_at": iso_micro(ts)}
            for who, st, ts in sess["reviews"]
        ],
        "created_at": row["created_at"],
        "expires_at": iso_micro(sess["expires"]),
    }
    if kyc and row["features"][0]["status"] != "Not Finished":
        feats = {f["feature"]: f["status"] for f in row["features"]}
        out["id_verifications"] = [
            {
                "node_id": "feature_ocr",
                "status": feats["ID_VERIFICATION"],
                "document_type": row["document_type"],
                "issuing_state": row["country"],
            }
        ]
        out["liveness_checks"] = [
            {
                "node_id": "feature_liveness",
                "status": feats["LIVENESS"],
                "method": "PASSIVE",
                "score": 0.97,
            }
        ]
        out["face_matches"] = [
            {
                "node_id": "feature_face",
                "status": feats["FACE_MATCH"],
                "score": 0.93 if feats["FACE_MATCH"] == "Approved" else 0.41,
            }
        ]
        out["aml_screenings"] = [
            {
                "node_id": "feature_aml",
                "status": feats["AML"],
                "total_hits": int(sess["aml_hit"]),
                "entity_type": "person",
                "hits": [],
            }
        ]
    if not kyc and status not in ("Not Started", "In Progress"):
        out["registry_checks"] = [
            {
                "status": status,
                "node_id": "feature_kyb",
                "data_resolved": True,
                "company": {
                    "name": row["company_name"],
                    "registration_number": row["registration_number"],
                    "country": row["country"],
                },
            }
        ]
    return out


def _entity_rows(sessions: list[dict], key, build) -> list[tuple]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for s in sessions:
        groups[key(s["row"])].append(s["row"])
    out = []
    for vendor, rows in groups.items():
        rows.sort(key=lambda r: r["created_at"])
        body = build(vendor, rows)
        out.append((body["didit_internal_id"], body["last_session_at"], to_json(body)))
    return out


def _counts(rows: list[dict]) -> dict:
    st = [r["status"] for r in rows]
    return {
        "session_count": len(st),
        "approved_count": st.count("Approved"),
        "declined_count": st.count("Declined"),
        "in_review_count": st.count("In Review"),
    }


def users(seed: int, kyc: list[dict]) -> list[tuple]:
    def build(vendor: str, rows: list[dict]) -> dict:
        approved = [r for r in rows if r["status"] == "Approved"]
        name = next((r["full_name"] for r in reversed(rows) if r["full_name"]), None)
        last = rows[-1]
        feats = {f["feature"]: f["status"] for f in last["features"]}
        return {
            "didit_internal_id": user_id(seed, vendor),
            "vendor_data": vendor,
            "display_name": None,
            "full_name": name,
            "date_of_birth": None,
            "effective_name": name,
            "status": "BLOCKED" if last["status"] == "Declined" else "ACTIVE",
            "portrait_image_url": None,
            **_counts(rows),
            "issuing_states": sorted({r["country"] for r in approved if r["country"]}),
            "approved_emails": sorted({r["email_address"]["email"] for r in approved}),
            "approved_phones": [],
            "features": feats,
            "features_list": [{"feature": k, "status": v} for k, v in feats.items()],
            "last_session_at": last["created_at"],
            "first_session_at": rows[0]["created_at"],
            "last_activity_at": last["created_at"],
            "tags": [],
            "created_at": rows[0]["created_at"],
        }

    return _entity_rows(kyc, lambda r: r["vendor_data"], build)


def businesses(seed: int, kyb: list[dict]) -> list[tuple]:
    def build(vendor: str, rows: list[dict]) -> dict:
        last = rows[-1]
        status = last["status"]
        return {
            "didit_internal_id": user_id(seed, vendor),
            "vendor_data": vendor,
            "display_name": None,
            "legal_name": last["company_name"],
            "registration_number": last["registration_number"],
            "country_code": last["country"],
            "effective_name": last["company_name"],
            "status": "FLAGGED" if status == "Declined" else "ACTIVE",
            **_counts(rows),
            "features": {"KYB": status if status != "In Progress" else "Not Finished"},
            "features_list": [{"feature": "KYB", "status": status}],
            "last_session_at": last["created_at"],
            "first_session_at": rows[0]["created_at"],
            "last_activity_at": last["created_at"],
            "tags": [],
            "created_at": rows[0]["created_at"],
        }

    return _entity_rows(kyb, lambda r: r["vendor_data"], build)


def billing_balance(n_kyc: int, n_kyb: int) -> dict:
    """Credits spent per session, topped up by 500 USD whenever the balance drops under 100."""
    balance = 1500.0
    for cost in [0.35] * n_kyc + [0.5] * n_kyb:
        balance -= cost
        if balance < 100:
            balance += 500
    return {
        "balance": f"{balance:.4f}",
        "auto_refill_enabled": True,
        "auto_refill_amount": "500.00",
        "auto_refill_threshold": "100.00",
    }


def period_days(sched: Schedule, end_us: int) -> list:
    first = sched.start
    last_day = (
        sched.period_start + timedelta(microseconds=end_us - to_epoch_us(sched.period_start))
    ).date()
    return [first + timedelta(days=i) for i in range((last_day - first).days + 1)]


def rng_for(seed: int, slot: str) -> random.Random:
    return slot_rng(seed, slot, "didit")
