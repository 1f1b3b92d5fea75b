"""Follow Didit's `next` links exactly, and stop a newest-first walk as early as is safe.

Didit's lists are DRF pages: `{"count", "next", "previous", "results"}` with `next` an
absolute URL (limit/offset on the public API, an opaque cursor on the Console audit
route). We never compute offsets or trust `count`; we request what `next` says.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import ParseResult, urlparse

import requests
from singer_sdk.pagination import BaseHATEOASPaginator

from tap_didit.errors import PaginationLoopError
from tap_didit.jsonbody import json_body

#: Returns True when every record of the page lies before the walk's lower bound.
PageIsPastFloor = Callable[[list[dict[str, Any]]], bool]


def page_results(body: Any) -> list[dict[str, Any]]:
    """Records of a page: the DRF envelope's `results`, or a bare array (some lists)."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        results = body.get("results")
        if isinstance(results, list):
            return results
    return []


class NextLinkPaginator(BaseHATEOASPaginator):
    """Follows `next`; ends on null, on an empty page, or once a page lies past the floor."""

    def __init__(self, stream_name: str, page_is_past_floor: PageIsPastFloor | None = None):
        super().__init__()
        self._stream_name = stream_name
        self._page_is_past_floor = page_is_past_floor
        self._followed: set[str] = set()
        self.pages = 0

    def get_next_url(self, response: requests.Response) -> str | None:
        """The `next` link of a DRF envelope; None for bare arrays and the last page."""
        body = json_body(response)
        return body.get("next") if isinstance(body, dict) else None

    def has_more(self, response: requests.Response) -> bool:
        """Stop on an empty page or when the whole page is older than the floor."""
        self.pages += 1
        records = page_results(json_body(response))
        if not records:
            return False
        if self._page_is_past_floor is not None and self._page_is_past_floor(records):
            return False
        return super().has_more(response)

    def get_next(self, response: requests.Response) -> ParseResult | None:
        """Parse `next`, refusing to follow the same link twice (a server-side loop)."""
        url = self.get_next_url(response)
        if not url:
            return None
        if url in self._followed:
            raise PaginationLoopError(
                f"Stream '{self._stream_name}': the API returned a `next` link that was "
                f"already followed (page {self.pages}); stopping to avoid an endless loop."
            )
        self._followed.add(url)
        return urlparse(url)
