"""Small configuration and entity lists, read in full each run (Didit offers no filter)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import requests
from singer_sdk.helpers.types import Context

from tap_didit.client import DiditStream, PerParentStream
from tap_didit.jsonbody import json_body
from tap_didit.schema_kit import record_schema
from tap_didit.timestamps import format_timestamp

_ENTITY_COUNTS = {
    "status": "string",
    "session_count": "integer",
    "approved_count": "integer",
    "declined_count": "integer",
    "in_review_count": "integer",
    "features": "object",
    "features_list": "array",
    "tags": "array",
    "last_session_at": "datetime",
    "first_session_at": "datetime",
    "last_activity_at": "datetime",
    "created_at": "datetime",
}
_ENTITY_TIMES = ("last_session_at", "first_session_at", "last_activity_at", "created_at")


class WorkflowsStream(DiditStream):
    """`GET /v3/workflows/`: one row per version, with `created_by` (who changed KYC rules)."""

    name = "workflows"
    path = "/workflows/"
    primary_keys = ("uuid",)
    required_scope = "workflows: read"
    timestamp_fields = ("created_at", "updated_at")
    schema = record_schema(
        {
            "uuid": "string",
            "workflow_id": "string",
            "workflow_label": "string",
            "workflow_type": "string",
            "is_default": "boolean",
            "is_archived": "boolean",
            "is_white_label_enabled": "boolean",
            "total_price": "number",
            "min_price": "number",
            "max_price": "number",
            "features": "string",
            "is_simple_workflow": "boolean",
            "is_editable": "boolean",
            "workflow_url": "string",
            "max_retry_attempts": "integer",
            "retry_window_days": "integer",
            "session_expiration_time": "integer",
            "version": "integer",
            "status": "string",
            "has_draft": "boolean",
            "created_by": "object",
            "created_at": "datetime",
            "updated_at": "datetime",
        },
        required=("uuid",),
    )


class UsersStream(DiditStream):
    """`GET /v3/users/`: verified people (KYC entities)."""

    name = "users"
    path = "/users/"
    primary_keys = ("didit_internal_id",)
    required_scope = "users: read"
    timestamp_fields = _ENTITY_TIMES
    dropped_fields = frozenset({"portrait_image_url"})
    schema = record_schema(
        {
            "didit_internal_id": "string",
            "vendor_data": "string",
            "display_name": "string",
            "full_name": "string",
            "date_of_birth": "date",
            "effective_name": "string",
            "issuing_states": "strings",
            "approved_emails": "strings",
            "approved_phones": "strings",
            **_ENTITY_COUNTS,
        },
        required=("didit_internal_id",),
    )


class BusinessesStream(DiditStream):
    """`GET /v3/businesses/`: verified companies (KYB entities)."""

    name = "businesses"
    path = "/businesses/"
    primary_keys = ("didit_internal_id",)
    required_scope = "businesses: read"
    timestamp_fields = _ENTITY_TIMES
    schema = record_schema(
        {
            "didit_internal_id": "string",
            "vendor_data": "string",
            "display_name": "string",
            "legal_name": "string",
            "registration_number": "string",
            "country_code": "string",
            "effective_name": "string",
            **_ENTITY_COUNTS,
        },
        required=("didit_internal_id",),
    )


class ListsStream(DiditStream):
    """`GET /v3/lists/`: blocklists, allowlists and custom lists."""

    name = "lists"
    path = "/lists/"
    primary_keys = ("uuid",)
    required_scope = "lists: read"
    timestamp_fields = ("created_at", "updated_at")
    schema = record_schema(
        {
            "uuid": "string",
            "name": "string",
            "list_type": "string",
            "entry_type": "string",
            "description": "string",
            "is_system": "boolean",
            "entries_count": "integer",
            "created_at": "datetime",
            "updated_at": "datetime",
        },
        required=("uuid",),
    )

    def get_child_context(self, record: dict, context: Context | None) -> dict[str, Any]:
        """Entries are read per list."""
        return {"list_uuid": record["uuid"]}


class ListEntriesStream(PerParentStream):
    """`GET /v3/lists/{list_uuid}/entries/`: blocklist evidence."""

    name = "list_entries"
    path = "/lists/{list_uuid}/entries/"
    parent_stream_type = ListsStream
    primary_keys = ("uuid",)
    required_scope = "lists: read"
    context_fields = ("list_uuid",)
    timestamp_fields = ("created_at", "updated_at", "expires_at")
    schema = record_schema(
        {
            "uuid": "string",
            "list_uuid": "string",
            "entry_type": "string",
            "value": "string",
            "display_value": "string",
            "session_id": "string",
            "reason": "string",
            "comment": "string",
            "added_by": "object",
            "created_at": "datetime",
            "updated_at": "datetime",
            "expires_at": "datetime",
        },
        required=("uuid", "list_uuid"),
    )


class BillingBalanceStream(DiditStream):
    """`GET /v3/billing/balance/`: one snapshot per run, keyed by the run's start time."""

    name = "billing_balance"
    path = "/billing/balance/"
    primary_keys = ("snapshot_at",)
    replication_key = "snapshot_at"
    is_sorted = True
    required_scope = "billing: read"
    paginated = False
    schema = record_schema(
        {
            "snapshot_at": "datetime",
            "balance": "string",
            "auto_refill_enabled": "boolean",
            "auto_refill_amount": "string",
            "auto_refill_threshold": "string",
        },
        required=("snapshot_at",),
    )

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """A bare object, stamped with the sync start (money stays a decimal string)."""
        body = json_body(response)
        if not isinstance(body, dict):
            return []
        return [{**body, "snapshot_at": format_timestamp(self.tap.sync_started_at)}]
