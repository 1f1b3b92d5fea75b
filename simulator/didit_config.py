"""Configuration-like Didit records: workflow versions, webhook destinations, lists.

They are placed by the world's anchor and filtered by ``end`` after every random draw, so a
later ``end`` never changes them, only adds the ones created since.
"""

from __future__ import annotations

import orjson

from simulator.clock import iso_micro, new_uuid, slot_rng, to_epoch_us
from simulator.didit_sessions import DAY
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
