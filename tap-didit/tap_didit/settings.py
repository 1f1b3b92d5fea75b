"""Every setting of tap-didit, in one place: name, type, default, secrecy and why."""

from __future__ import annotations

from singer_sdk import typing as th

VERSION = "0.1.0"
DEFAULT_BASE_URL = "https://verification.didit.me/v3"
DEFAULT_AUTH_BASE_URL = "https://apx.didit.me/auth/v2"
DEFAULT_AUDIT_LOGS_PATH = "/audit/{organization_id}/audit-logs/"
#: Didit allows 600 GET/min per key (API-NOTES §2.7); stay just under it.
DEFAULT_MAX_REQUESTS_PER_MINUTE = 590
MAX_PAGE_SIZE = 500

CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "api_key",
        th.StringType(nullable=False),
        required=True,
        secret=True,
        title="API key",
        description="Didit API key (`x-api-key`). Use a named, read-only key.",
    ),
    th.Property(
        "base_url",
        th.URIType,
        default=DEFAULT_BASE_URL,
        title="API base URL",
        description="Base URL of Didit's public API, including `/v3`.",
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        title="Start date",
        description="Earliest record to extract (UTC) when there is no bookmark yet. "
        "Empty: everything Didit still holds.",
    ),
    th.Property(
        "lookback_days",
        th.IntegerType,
        default=7,
        title="Lookback (days)",
        description="Re-read sessions created this many days before the bookmark, so "
        "status changes of recent sessions (and their reviews/decisions) are picked up.",
    ),
    th.Property(
        "page_size",
        th.IntegerType,
        default=100,
        title="Page size",
        description=f"`limit` per list request (1-{MAX_PAGE_SIZE}).",
    ),
    th.Property(
        "max_requests_per_minute",
        th.NumberType,
        default=DEFAULT_MAX_REQUESTS_PER_MINUTE,
        title="Request budget per minute",
        description="Client-side pacing of all requests of a run (Didit allows 600 GET/min "
        "per key). 0 switches pacing off.",
    ),
    th.Property(
        "backoff_max_tries",
        th.IntegerType,
        default=5,
        title="Max tries per request",
        description="Attempts per request on 429, 5xx, timeouts and dropped connections.",
    ),
    th.Property(
        "backoff_factor_seconds",
        th.NumberType,
        default=5.0,
        title="Backoff factor (seconds)",
        description="First retry wait for 5xx/timeouts, doubled each try (jittered).",
    ),
    th.Property(
        "max_wait_seconds",
        th.NumberType,
        default=120.0,
        title="Longest single wait (seconds)",
        description="Cap on one backoff or `Retry-After` wait.",
    ),
    th.Property(
        "request_timeout_seconds",
        th.NumberType,
        default=60.0,
        title="Request timeout (seconds)",
        description="Connect/read timeout of one HTTP request.",
    ),
    th.Property(
        "user_agent",
        th.StringType,
        default=f"tap-didit/{VERSION}",
        title="User agent",
        description="User-Agent header sent with every request.",
    ),
    th.Property(
        "metrics_log_level",
        th.StringType(allowed_values=["DEBUG", "INFO"]),
        default="DEBUG",
        title="Metrics log level",
        description="`DEBUG`: the SDK's METRIC lines (one per request and per partition) are "
        "logged only when the tap runs at DEBUG (`TAP_DIDIT_LOGLEVEL=DEBUG`); at INFO each "
        "stream logs one summary line instead. `INFO`: METRIC lines at INFO, as the SDK does.",
    ),
    th.Property(
        "session_kinds",
        th.ArrayType(th.StringType),
        default=["user", "business"],
        title="Session kinds",
        description="Which sessions to extract: `user` (KYC) and/or `business` (KYB).",
    ),
    th.Property(
        "children_full_sweep_days",
        th.IntegerType,
        default=30,
        title="Full sweep of session children (days)",
        description="Every this many days, re-read all sessions since start_date and fetch "
        "reviews/decisions for each; otherwise only for new sessions and those inside the "
        "lookback window. 0 = never sweep.",
    ),
    th.Property(
        "organization_id",
        th.StringType,
        title="Organization ID",
        description="Didit organization UUID (needed by cases and audit_logs).",
    ),
    th.Property(
        "application_id",
        th.StringType,
        title="Application ID",
        description="Didit application UUID (needed by cases).",
    ),
    th.Property(
        "auth_base_url",
        th.URIType,
        default=DEFAULT_AUTH_BASE_URL,
        title="Auth service base URL",
        description="Didit auth service (Console login, 2FA, token refresh).",
    ),
    th.Property(
        "console_base_url",
        th.URIType,
        default=DEFAULT_BASE_URL,
        title="Console API base URL",
        description="Base URL of the (undocumented) Console audit-log route. ASSUMED.",
    ),
    th.Property(
        "console_email",
        th.StringType,
        secret=True,
        title="Console user email",
        description="Console user with the `read:audit-logs` permission (e.g. Compliance "
        "Officer), for the audit_logs stream.",
    ),
    th.Property(
        "console_password",
        th.StringType,
        secret=True,
        title="Console user password",
        description="Password of console_email.",
    ),
    th.Property(
        "console_totp_secret",
        th.StringType,
        secret=True,
        title="Console TOTP secret",
        description="Base32 TOTP secret, if the Console user has 2FA.",
    ),
    th.Property(
        "console_access_token",
        th.StringType,
        secret=True,
        title="Console access token",
        description="A pre-issued Console Bearer token, instead of email/password.",
    ),
    th.Property(
        "audit_logs_path",
        th.StringType,
        default=DEFAULT_AUDIT_LOGS_PATH,
        title="Audit-log route",
        description="Path under console_base_url; `{organization_id}` is substituted. ASSUMED.",
    ),
    th.Property(
        "audit_logs_pagination",
        th.StringType(allowed_values=["cursor", "offset"]),
        default="cursor",
        title="Audit-log pagination",
        description="`cursor` (send only `limit`) or `offset` (send `limit` and `offset=0`); "
        "`next` links are always followed as given.",
    ),
    th.Property(
        "audit_logs_field_aliases",
        th.ObjectType(additional_properties=th.StringType),
        default={},
        title="Audit-log field aliases",
        description='Map of our field name to the API\'s, e.g. `{"timestamp": '
        '"created_at"}`, if the route\'s JSON keys differ from the assumed ones.',
    ),
    th.Property(
        "audit_logs_page_size",
        th.IntegerType,
        default=MAX_PAGE_SIZE,
        title="Audit-log page size",
        description=f"`limit` per audit-log request (1-{MAX_PAGE_SIZE}); the log is the "
        "largest stream, so big pages save most of the request budget.",
    ),
    th.Property(
        "audit_logs_lookback_hours",
        th.IntegerType,
        default=24,
        title="Audit-log lookback (hours)",
        description="Re-read audit entries this many hours before the bookmark (late writes).",
    ),
).to_dict()
