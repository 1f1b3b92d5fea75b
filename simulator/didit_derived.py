"""Didit records derived from the sessions: decisions, users, businesses, billing balance."""

from __future__ import annotations

from collections import defaultdict

from simulator.clock import iso_micro, new_uuid, slot_rng
from simulator.didit_sessions import KYC_FEATURES
from simulator.didit_store import to_json


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
