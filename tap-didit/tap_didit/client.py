"""The one HTTP behaviour every Didit stream shares.

Trailing slashes, `next` links followed verbatim (the next page fetched ahead),
client-side pacing, `Retry-After`, jittered backoff, typed auth errors that name the
setting and permission, 404 on a child skipped with a warning, and deduplication by key.
Shaping each record to its schema lives in records.py; what a run logs, in run_log.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlparse

import msgspec
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers.types import Context
from singer_sdk.streams import RESTStream
from singer_sdk.streams.rest import HTTPRequest, PageContext

from tap_didit.auth import api_key_authenticator
from tap_didit.errors import DiditAuthError, ParentNotVisibleError
from tap_didit.jsonbody import json_body
from tap_didit.pagination import NextLinkPaginator, PageIsPastFloor, page_results
from tap_didit.records import RecordShaping
from tap_didit.retry import wait_generator
from tap_didit.run_log import RunReporting

if TYPE_CHECKING:
    from backoff._typing import Details

    from tap_didit.tap import TapDidit


def _with_trailing_slash(url: str) -> str:
    parts = urlparse(url)
    if parts.path.endswith("/"):
        return url
    return parts._replace(path=parts.path + "/").geturl()


class DiditStream(RunReporting, RecordShaping, RESTStream):
    """Base class of all Didit streams: Didit's HTTP conventions, record shaping, run log."""

    #: Permission a Didit key needs for this endpoint, named in 401/403 errors.
    required_scope: ClassVar[str] = "read access"
    #: Setting that holds the credential used by this stream, named in 401/403 errors.
    credential_setting: ClassVar[str] = "api_key"
    #: Whether the first request sends `limit` (lists); detail endpoints do not.
    paginated: ClassVar[bool] = True

    _page_predicate: PageIsPastFloor | None = None

    @property
    def tap(self) -> TapDidit:
        """The owning tap (shared pacer, console auth, sync start)."""
        return self._tap  # type: ignore[return-value]

    # -- where and how to ask ---------------------------------------------------------

    @property
    def url_base(self) -> str:
        """Public API base from `base_url`."""
        return str(self.config["base_url"]).rstrip("/")

    @cached_property
    def authenticator(self) -> Any:
        """`x-api-key` for the public API."""
        return api_key_authenticator(self.config["api_key"])

    @property
    def http_headers(self) -> dict[str, str]:
        """JSON only."""
        return {"Accept": "application/json"}

    @property
    def timeout(self) -> float:  # type: ignore[override]
        """Per-request timeout from `request_timeout_seconds`."""
        return float(self.config["request_timeout_seconds"])

    def get_url(self, context: Context | None) -> str:
        """Path with context values substituted, always ending in `/` (no 301 hop)."""
        return _with_trailing_slash(super().get_url(context))

    def first_page_params(self, context: Context | None) -> dict[str, Any]:
        """Query of the first request; later pages use `next` exactly as given."""
        return {"limit": self.tap.page_size} if self.paginated else {}

    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        """First page: our URL and params. Later pages: the `next` link, untouched."""
        request = super().get_http_request(page=page)
        token = page.next_page_token
        if token:
            request.url = _with_trailing_slash(token.geturl())
            request.params = {}
        else:
            request.params = self.first_page_params(page.stream_context)
        return request

    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        """Unused: `get_http_request` sets the query."""
        return {}

    def get_new_paginator(self) -> NextLinkPaginator:
        """Follow `next`; stop early when a newest-first walk passed its floor."""
        return NextLinkPaginator(self.name, self._page_predicate)

    # -- pacing, retries and errors ---------------------------------------------------

    def request_decorator(self, func: Callable) -> Callable:
        """Every attempt, including retries, waits for a slot in the request budget."""
        pacer = self.tap.pacer

        def paced(*args: Any, **kwargs: Any) -> requests.Response:
            pacer.wait_for_slot()
            return func(*args, **kwargs)

        return super().request_decorator(paced)

    def backoff_wait_generator(self) -> Any:
        """Honour `Retry-After`/`X-RateLimit-Reset`; else jittered exponential backoff."""
        return wait_generator(
            factor=float(self.config["backoff_factor_seconds"]),
            cap=float(self.config["max_wait_seconds"]),
            on_server_wait=self.tap.pacer.hold_off,
        )

    def backoff_jitter(self, value: float) -> float:
        """Jitter is already applied by the wait generator."""
        return value

    def backoff_max_tries(self) -> int:
        """Attempts per request, from `backoff_max_tries`."""
        return int(self.config["backoff_max_tries"])

    def backoff_handler(self, details: Details) -> None:
        """One line per retry: stream, cause, wait. No URL query, no body."""
        exc = details.get("exception")
        response = getattr(exc, "response", None)
        cause = f"HTTP {response.status_code}" if response is not None else type(exc).__name__
        self.logger.warning(
            "Stream '%s': %s, retrying in %.1f s (attempt %d of %d).",
            self.name,
            cause,
            details.get("wait") or 0.0,
            details.get("tries") or 0,
            self.backoff_max_tries(),
        )
        self.totals.retries += 1

    def response_error_message(self, response: requests.Response) -> str:
        """Status and path only: bodies and query strings may carry personal data."""
        path = urlparse(response.url).path or self.path
        return (
            f"Stream '{self.name}': HTTP {response.status_code} "
            f"{response.reason or HTTPStatus(response.status_code).phrase} for {path}"
        )

    def validate_response(self, response: requests.Response) -> None:
        """Map Didit's statuses to retriable, fatal, auth and not-visible errors."""
        status = response.status_code
        if status < HTTPStatus.BAD_REQUEST:
            self._require_json(response)
            return
        message = self.response_error_message(response)
        if status == HTTPStatus.TOO_MANY_REQUESTS or status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            raise RetriableAPIError(message, response)
        if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
            raise DiditAuthError(
                f"{message}: the credential in setting `{self.credential_setting}` was "
                f"refused or lacks the permission `{self.required_scope}`."
            )
        if status == HTTPStatus.NOT_FOUND and self.parent_stream_type is not None:
            raise ParentNotVisibleError(message)
        if status == HTTPStatus.BAD_REQUEST:
            fields = self._error_field_names(response)
            hint = f" (rejected parameters: {', '.join(fields)})" if fields else ""
            raise FatalAPIError(f"{message}{hint}: check start_date and page_size.")
        raise FatalAPIError(message)

    def _require_json(self, response: requests.Response) -> None:
        """A 2xx body that is not JSON (cut off by a proxy, say) is retried, not fatal."""
        try:
            json_body(response)
        except msgspec.DecodeError:
            message = self.response_error_message(response)
            raise RetriableAPIError(f"{message}: the body is not complete JSON", response) from None

    @staticmethod
    def _error_field_names(response: requests.Response) -> list[str]:
        """Names (never values) of the fields a 400 body complains about."""
        try:
            body = json_body(response)
        except Exception:
            return []
        return sorted(str(k) for k in body if k != "detail") if isinstance(body, dict) else []

    # -- pages and records --------------------------------------------------------------

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """Records of a DRF page (or a bare array)."""
        return page_results(json_body(response))

    @cached_property
    def _prefetcher(self) -> ThreadPoolExecutor:
        """One background worker per stream that fetches the next page."""
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"didit-{self.name}")

    def request_records(self, context: Context | None) -> Iterator[dict]:
        """Pages in order, the next one fetched while this one's records are processed.

        Same steps as the SDK's loop (paced, retried request; metrics; `next` link; stop
        on an empty page, a null `next` or a page past the floor), except that the request
        for page n+1 is sent before page n's records are handed on. Waiting for Didit and
        processing records then overlap; the request budget is still enforced by the pacer.
        """
        paginator = self.get_new_paginator()
        send = self.request_decorator(self._request)

        def fetch() -> tuple[requests.PreparedRequest, requests.Response]:
            prepared = self._prepare_request(context=context, page=paginator)
            return prepared, send(prepared, context)

        with self.get_http_request_counter() as counter:
            counter.with_context(context)
            pending = self._prefetcher.submit(fetch)
            while pending is not None:
                prepared, response = pending.result()
                counter.increment()
                self.update_sync_costs(prepared, response, context)
                records = self.parse_response(response)
                paginator.advance(response)
                pending = None if paginator.finished else self._prefetcher.submit(fetch)
                yield from records

    @property
    def source_primary_keys(self) -> tuple[str, ...]:
        """The API's names for the primary key fields (aliases may differ)."""
        return tuple(self.primary_keys or ())

    def get_records(self, context: Context | None) -> Iterator[dict[str, Any]]:
        """Deduplicate by primary key within this sync; skip parents that 404."""
        seen: set[tuple[Any, ...]] = set()
        keys = self.source_primary_keys
        try:
            for record in self.request_records(context):
                identity = tuple(record.get(k) for k in keys)
                if any(v is not None for v in identity):  # keyless rows are skipped later
                    if identity in seen:
                        continue
                    seen.add(identity)
                yield record
        except ParentNotVisibleError:
            self.totals.skipped_parents += 1
            self.logger.warning(
                "Stream '%s': parent %s is not visible to this key (HTTP 404); skipped.",
                self.name,
                {k: (context or {}).get(k) for k in self.context_fields},
            )

    def skip_record(self, record: dict[str, Any], reason: str) -> None:
        """Warn (records.py) and count the skip for the stream's summary."""
        super().skip_record(record, reason)
        self.totals.skipped_records += 1


class PerParentStream(DiditStream):
    """A full-table endpoint read once per parent record, without per-parent state.

    Per-parent bookmarks would grow state by one entry per session; these endpoints have
    no incremental filter anyway, so the parent's walk decides what is re-read.
    """

    state_partitioning_keys: ClassVar[list[str]] = []  # type: ignore[assignment]

    @property
    def emit_activate_version_messages(self) -> bool:
        """Never: a child sees only some parents, so a version swap would delete rows."""
        return False
