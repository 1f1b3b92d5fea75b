"""Didit's Console audit log, from the undocumented route the Console itself reads.

Everything about the route is ASSUMED (docs/contracts.md, README "Assumptions"): base
URL, path, pagination, field names. All of it is configurable, and the untouched entry
is kept in `raw`, so a field we mis-name is still in the warehouse. An entry without its
`uuid` or `timestamp` under the configured names is skipped (and kept on the
`skipped_records` stream); when every entry of a run is, the aliases are wrong and the run
fails naming `audit_logs_field_aliases` (skipped.py).
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any

import requests
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers.types import Context

from tap_didit.incremental import NewestFirstStream
from tap_didit.schema_kit import record_schema

FIELDS = {
    "uuid": "string",
    "timestamp": "datetime",
    "actor_type": "string",
    "actor": "string",
    "api_key_name": "string",
    "method": "string",
    "path": "string",
    "status_code": "integer",
    "ip_address": "string",
    "country": "string",
    "user_agent": "string",
    "application_id": "string",
    "application_name": "string",
    "request_body": "object",
    "investigator_report_url": "string",
}


class AuditLogsStream(NewestFirstStream):
    """`GET {console_base_url}/audit/{organization_id}/audit-logs/` with a Bearer token."""

    name = "audit_logs"
    primary_keys = ("uuid",)
    replication_key = "timestamp"
    required_scope = "read:audit-logs"
    credential_setting = "console_email/console_password (or console_access_token)"
    timestamp_fields = ("timestamp",)
    shape_setting_hint = (
        "Check the setting `audit_logs_field_aliases` (our field name -> the JSON key of the "
        "route's entries): the entries do not carry the fields under the names it gives."
    )
    schema = record_schema(
        {**FIELDS, "raw": "object"}, required=("uuid", "timestamp"), extra_fields=False
    )

    _token_renewed = False

    @property
    def url_base(self) -> str:
        """Console API base from `console_base_url`."""
        return str(self.config["console_base_url"]).rstrip("/")

    @property
    def path(self) -> str:  # type: ignore[override]
        """Route from `audit_logs_path` (`{organization_id}` filled from the settings)."""
        return str(self.config["audit_logs_path"])

    @cached_property
    def authenticator(self) -> Any:
        """A Console user's Bearer token (an API key is refused on this route)."""
        return self.tap.console_auth

    @property
    def lookback(self) -> dt.timedelta:
        """Audit entries are written as requests happen; a short lookback suffices."""
        return dt.timedelta(hours=int(self.config["audit_logs_lookback_hours"]))

    @cached_property
    def aliases(self) -> dict[str, str]:
        """Our field name -> the API's, from `audit_logs_field_aliases`."""
        return {k: str(v) for k, v in (self.config.get("audit_logs_field_aliases") or {}).items()}

    @cached_property
    def field_sources(self) -> list[tuple[str, str]]:
        """(our name, the API's name) for every assumed field."""
        return [(field, self.aliases.get(field, field)) for field in FIELDS]

    @property
    def source_timestamp_key(self) -> str:
        """The API's name for `timestamp`."""
        return self.aliases.get("timestamp", "timestamp")

    @property
    def source_primary_keys(self) -> tuple[str, ...]:
        """The API's name for `uuid`: raw entries are deduplicated before renaming."""
        return (self.aliases.get("uuid", "uuid"),)

    def source_field_note(self, field: str) -> str:
        """The JSON key looked up for `field` (a name from the settings, never a value)."""
        return f" (looked up as `{self.aliases.get(field, field)}`)"

    def first_page_params(self, context: Context | None) -> dict[str, Any]:
        """Cursor style sends only `limit`; offset style starts at `offset=0`."""
        params = {
            **super().first_page_params(context),
            "limit": self.config["audit_logs_page_size"],
        }
        if self.config["audit_logs_pagination"] == "offset":
            params["offset"] = 0
        return params

    def validate_response(self, response: requests.Response) -> None:
        """A 401 with a renewable token: renew once and retry, then fail clearly."""
        auth = self.tap.console_auth
        if response.status_code < 400:
            self._token_renewed = False  # the next expiry may be renewed again
        elif response.status_code == 401 and auth.can_renew and not self._token_renewed:
            self._token_renewed = True
            auth.invalidate()
            raise RetriableAPIError(self.response_error_message(response), response)
        super().validate_response(response)

    def fit_to_schema(self, row: dict[str, Any]) -> dict[str, Any]:
        """Our field names through the aliases, and the untouched entry in `raw`."""
        mapped = {field: row.get(source) for field, source in self.field_sources}
        mapped["raw"] = row
        return mapped
