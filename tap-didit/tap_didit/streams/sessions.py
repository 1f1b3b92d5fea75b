"""KYC/KYB sessions and their two children: the activity feed and a thin decision.

Children cost one request per session, so they are fetched only for the sessions the
walk returns: new ones and those inside the lookback window. Every
`children_full_sweep_days` the walk is widened to `start_date` (README "Request budget").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from singer_sdk.helpers.types import Context

from tap_didit.client import PerParentStream
from tap_didit.incremental import NewestFirstStream
from tap_didit.jsonbody import json_body
from tap_didit.schema_kit import record_schema
from tap_didit.timestamps import format_timestamp, parse_timestamp
from tap_didit.window import Window

SWEEP_MARKER = "children_full_sweep_at"


class SessionsStream(NewestFirstStream):
    """`GET /v3/sessions/?session_kind=…`, one partition (and bookmark) per kind."""

    name = "sessions"
    path = "/sessions/"
    primary_keys = ("session_id",)
    replication_key = "created_at"
    required_scope = "sessions: read"
    timestamp_fields = ("created_at",)
    #: Presigned media links expire within an hour: useless and risky in a warehouse.
    dropped_fields = frozenset({"portrait_image"})
    schema = record_schema(
        {
            "session_id": "string",
            "session_kind": "string",
            "session_number": "integer",
            "session_url": "string",
            "status": "string",
            "vendor_data": "string",
            "didit_internal_id": "string",
            "created_at": "datetime",
            "document_type": "string",
            "full_name": "string",
            "country": "string",
            "features": "array",
            "phone_number": "object",
            "email_address": "object",
            "additional_details": "object",
            "workflow_id": "string",
            "workflow_type": "string",
            "workflow_label": "string",
            "company_name": "string",
            "registration_number": "string",
        },
        required=("session_id", "created_at"),
    )

    @property
    def partitions(self) -> list[dict[str, str]]:
        """One walk per configured session kind (`session_kind=all` mixes pages)."""
        return [{"session_kind": kind} for kind in self.config["session_kinds"]]

    def sweep_due(self, context: Context | None) -> bool:
        """Whether this walk re-reads everything since start_date (children sweep)."""
        days = int(self.config["children_full_sweep_days"])
        state = self.get_context_state(context)
        if days <= 0 or not state.get("replication_key_value"):
            return False
        last = state.get(SWEEP_MARKER)
        if not last:
            return True
        return self.tap.sync_started_at - parse_timestamp(last) >= dt.timedelta(days=days)

    def window_for(self, context: Context | None) -> Window:
        """Widen to start_date when a full sweep is due."""
        window = super().window_for(context)
        if self.sweep_due(context):
            self.logger.info("Stream 'sessions': full sweep of session children is due.")
            return Window(floor=self.start_date(), upper=window.upper)
        return window

    def get_records(self, context: Context | None) -> Iterator[dict[str, Any]]:
        """After a complete walk from start_date, remember when the sweep happened."""
        yield from super().get_records(context)
        if self._window is not None and self._window.floor == self.start_date():
            state = self.get_context_state(context)
            state[SWEEP_MARKER] = format_timestamp(self.tap.sync_started_at)

    def upper_day_offset_for(self, context: Context | None) -> int:
        """KYB rows compare `date_to` with midnight: one day more (API-NOTES §2.5)."""
        return 1 if (context or {}).get("session_kind") == "business" else 0

    def first_page_params(self, context: Context | None) -> dict[str, Any]:
        """Add `session_kind` to the day filter."""
        params = super().first_page_params(context)
        if context:
            params["session_kind"] = context["session_kind"]
        return params

    def get_child_context(self, record: dict, context: Context | None) -> dict[str, Any]:
        """Children need the session id and kind (reviews exist for KYC only)."""
        return {"session_id": record["session_id"], "session_kind": record.get("session_kind")}


class _SessionChild(PerParentStream):
    """A per-session endpoint."""

    parent_stream_type = SessionsStream
    context_fields = ("session_id",)


class SessionReviewsStream(_SessionChild):
    """`GET /v3/sessions/{id}/reviews/?ordering=created_at`: who did or viewed what."""

    name = "session_reviews"
    path = "/sessions/{session_id}/reviews/"
    primary_keys = ("uuid",)
    required_scope = "sessions: read"
    timestamp_fields = ("created_at",)
    schema = record_schema(
        {
            "uuid": "string",
            "session_id": "string",
            "activity_type": "string",
            "actor_display": "string",
            "actor_email": "string",
            "actor_type": "string",
            "new_status": "string",
            "previous_status": "string",
            "comment": "string",
            "mentioned_emails": "strings",
            "previous_value": "object",
            "new_value": "object",
            "changed_fields": "strings",
            "metadata": "object",
            "created_at": "datetime",
        },
        required=("uuid", "session_id"),
    )

    def first_page_params(self, context: Context | None) -> dict[str, Any]:
        """Oldest first: stable under concurrent inserts."""
        return {**super().first_page_params(context), "ordering": "created_at"}

    def get_records(self, context: Context | None) -> Iterator[dict[str, Any]]:
        """KYB sessions have no activity feed (Didit answers 404): do not ask."""
        if (context or {}).get("session_kind") == "business":
            return
        yield from super().get_records(context)


#: Per-feature result arrays of a decision (API-NOTES §3.2).
FEATURE_ARRAYS = (
    "id_verifications",
    "nfc_verifications",
    "liveness_checks",
    "face_matches",
    "phone_verifications",
    "email_verifications",
    "poa_verifications",
    "document_ai_documents",
    "questionnaire_responses",
    "aml_screenings",
    "ip_analyses",
    "database_validations",
    "registry_checks",
    "key_people_checks",
    "document_verifications",
)


def _items(value: Any) -> Iterable[dict[str, Any]]:
    return (item for item in value or () if isinstance(item, dict))


def project_decision(body: dict[str, Any]) -> dict[str, Any]:
    """The compliance view of a decision: statuses, warnings, AML totals, reviews.

    `vendor_data` (the customer's own reference) is kept so decisions join to its records.

    Deliberately leaves out images, presigned URLs, document numbers, extracted personal
    data and screening hits: NIS2 reporting needs the outcome, not the evidence.
    """
    results, warnings = [], []
    for feature in FEATURE_ARRAYS:
        for item in _items(body.get(feature)):
            results.append(
                {"feature": feature, "node_id": item.get("node_id"), "status": item.get("status")}
            )
            for warning in _items(item.get("warnings")):
                warnings.append(
                    {
                        "feature": feature,
                        "risk": warning.get("risk"),
                        "log_type": warning.get("log_type"),
                    }
                )
    screenings = list(_items(body.get("aml_screenings")))
    hits = [s.get("total_hits") for s in screenings if isinstance(s.get("total_hits"), int)]
    reviews = [
        {k: r.get(k) for k in ("user", "new_status", "created_at")}
        for r in _items(body.get("reviews"))
    ]
    features = body.get("features") or []
    return {
        "session_id": body.get("session_id"),
        "session_kind": body.get("session_kind"),
        "session_number": body.get("session_number"),
        "status": body.get("status"),
        "environment": body.get("environment"),
        "workflow_id": body.get("workflow_id"),
        "vendor_data": body.get("vendor_data"),
        "features": [f.get("feature") if isinstance(f, dict) else f for f in features],
        "feature_results": results,
        "warnings": warnings,
        "aml_screenings_count": len(screenings),
        "aml_total_hits": sum(hits) if hits else None,
        "reviews": reviews,
        "created_at": body.get("created_at"),
        "expires_at": body.get("expires_at"),
    }


class SessionDecisionsStream(_SessionChild):
    """`GET /v3/session/{id}/decision/`, reduced to `project_decision`."""

    name = "session_decisions"
    path = "/session/{session_id}/decision/"
    primary_keys = ("session_id",)
    required_scope = "decisions: read"
    paginated = False
    timestamp_fields = ("created_at", "expires_at")
    schema = record_schema(
        {
            "session_id": "string",
            "session_kind": "string",
            "session_number": "integer",
            "status": "string",
            "environment": "string",
            "workflow_id": "string",
            "vendor_data": "string",
            "features": "strings",
            "feature_results": "array",
            "warnings": "array",
            "aml_screenings_count": "integer",
            "aml_total_hits": "integer",
            "reviews": "array",
            "created_at": "datetime",
            "expires_at": "datetime",
        },
        required=("session_id",),
        extra_fields=False,
    )

    def parse_response(self, response: Any) -> Iterable[dict]:
        """One decision object per response, projected."""
        body = json_body(response)
        return [project_decision(body)] if isinstance(body, dict) else []
