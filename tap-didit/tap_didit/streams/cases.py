"""Case management: cases and their read-only audit timeline (events)."""

from __future__ import annotations

from typing import Any

from singer_sdk.helpers.types import Context

from tap_didit.client import PerParentStream
from tap_didit.incremental import NewestFirstStream
from tap_didit.schema_kit import record_schema

_CASES_PATH = "/organization/{organization_id}/application/{application_id}/cases/"


class CasesStream(NewestFirstStream):
    """Cases, incremental on `updated_at`.

    Didit filters cases by creation date only, so every run walks the whole list (cases
    are few) and emits those updated since `bookmark - lookback`; their events follow.
    """

    name = "cases"
    path = _CASES_PATH
    primary_keys = ("uuid",)
    replication_key = "updated_at"
    required_scope = "list:cases"
    date_filter = False
    ordered_by_replication_key = False
    timestamp_fields = ("assigned_at", "due_at", "resolved_at", "created_at", "updated_at")
    schema = record_schema(
        {
            "uuid": "string",
            "case_number": "integer",
            "title": "string",
            "status": "string",
            "resolution": "string",
            "priority": "string",
            "source": "string",
            "tags": "array",
            "subject": "object",
            "assigned_to": "object",
            "assigned_at": "datetime",
            "due_at": "datetime",
            "resolved_at": "datetime",
            "created_by_email": "string",
            "created_by_name": "string",
            "blueprint": "object",
            "links_count": "integer",
            "notes_count": "integer",
            "created_at": "datetime",
            "updated_at": "datetime",
            "application_id": "string",
            "application_name": "string",
            "organization_id": "string",
            "organization_name": "string",
        },
        required=("uuid", "updated_at"),
    )

    def first_page_params(self, context: Context | None) -> dict[str, Any]:
        """Stable order for offset paging."""
        return {**super().first_page_params(context), "ordering": "-created_at"}

    def get_child_context(self, record: dict, context: Context | None) -> dict[str, Any]:
        """Events are read per case."""
        return {"case_uuid": record["uuid"]}


class CaseEventsStream(PerParentStream):
    """`…/cases/{case_uuid}/events/`, for each case emitted by `cases`."""

    name = "case_events"
    path = _CASES_PATH + "{case_uuid}/events/"
    parent_stream_type = CasesStream
    primary_keys = ("uuid",)
    required_scope = "read:cases"
    context_fields = ("case_uuid",)
    timestamp_fields = ("created_at",)
    schema = record_schema(
        {
            "uuid": "string",
            "case_uuid": "string",
            "event_type": "string",
            "actor_email": "string",
            "actor_name": "string",
            "previous_status": "string",
            "new_status": "string",
            "metadata": "object",
            "created_at": "datetime",
        },
        required=("uuid", "case_uuid"),
    )
