"""Typed failures, each with a message that names what to fix and never echoes a body."""

from __future__ import annotations

from singer_sdk.exceptions import FatalAPIError


class DiditAuthError(FatalAPIError):
    """401/403: the credential is wrong or lacks a permission. Retrying cannot help."""


class ParentNotVisibleError(FatalAPIError):
    """404 on a child endpoint: the parent is not visible to this key (or was deleted)."""


class PaginationLoopError(FatalAPIError):
    """The API handed back a `next` link we already followed in this walk."""
