"""Webhook destinations (never their secret) and the per-attempt delivery log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from singer_sdk.helpers.types import Context

from tap_didit.client import DiditStream
from tap_didit.incremental import NewestFirstStream
from tap_didit.schema_kit import record_schema

#: Didit keeps delivery records about 30 days (API-NOTES §3.10).
DELIVERY_RETENTION = dt.timedelta(days=30)


class WebhookDestinationsStream(DiditStream):
    """`GET /v3/webhook/destinations/`: a bare array, oldest first."""

    name = "webhook_destinations"
    path = "/webhook/destinations/"
    primary_keys = ("uuid",)
    required_scope = "webhooks: read"
    paginated = False
    timestamp_fields = ("last_delivery_at", "created_at", "updated_at")
    #: The signing secret (or a fragment of it) never leaves Didit through this tap.
    dropped_fields = frozenset({"secret_shared_key", "secret_last4"})
    schema = record_schema(
        {
            "uuid": "string",
            "label": "string",
            "url": "string",
            "enabled": "boolean",
            "webhook_version": "string",
            "subscribed_events": "strings",
            "subscribed_events_count": "integer",
            "deliveries_count": "integer",
            "failed_deliveries_count": "integer",
            "average_response_time_ms": "integer",
            "error_rate_percentage": "number",
            "last_delivery_at": "datetime",
            "created_at": "datetime",
            "updated_at": "datetime",
        },
        required=("uuid",),
    )

    def get_child_context(self, record: dict, context: Context | None) -> dict[str, Any]:
        """Deliveries are read per destination."""
        return {"destination_uuid": record["uuid"]}


class WebhookDeliveriesStream(NewestFirstStream):
    """`GET …/destinations/{uuid}/deliveries/`: each attempt, one bookmark per destination."""

    name = "webhook_deliveries"
    path = "/webhook/destinations/{destination_uuid}/deliveries/"
    parent_stream_type = WebhookDestinationsStream
    primary_keys = ("uuid",)
    replication_key = "created_at"
    required_scope = "webhooks: read"
    context_fields = ("destination_uuid",)
    timestamp_fields = ("created_at",)
    schema = record_schema(
        {
            "uuid": "string",
            "destination_uuid": "string",
            "webhook_type": "string",
            "session_id": "string",
            "http_status": "integer",
            "response_time_ms": "integer",
            "attempt": "integer",
            "is_retry": "boolean",
            "error": "string",
            "created_at": "datetime",
        },
        required=("uuid", "destination_uuid", "created_at"),
    )

    def get_records(self, context: Context | None) -> Iterator[dict[str, Any]]:
        """Warn when the bookmark is older than Didit keeps deliveries (a gap is likely)."""
        bookmark = self.bookmark(context)
        if bookmark is not None and self.tap.sync_started_at - bookmark > DELIVERY_RETENTION:
            self.logger.warning(
                "Stream 'webhook_deliveries': the bookmark of destination %s is %d days old; "
                "Didit keeps deliveries about 30 days, so older attempts may be gone.",
                (context or {}).get("destination_uuid"),
                (self.tap.sync_started_at - bookmark).days,
            )
        yield from super().get_records(context)
