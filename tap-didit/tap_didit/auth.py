"""Credentials: the API key for the public API, a Console user's token for the audit log.

The Console audit-log route takes only a user Bearer token (an `x-api-key` gets 403).
We obtain one the way Didit documents for programmatic access: login with email and
password, complete TOTP 2FA from the stored secret when asked, refresh before expiry,
log in again when the refresh token is refused. A pre-issued token may be configured
instead. Nothing here ever logs a credential or a response body.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from singer_sdk.authenticators import APIKeyAuthenticator

from tap_didit.errors import DiditAuthError
from tap_didit.totp import totp_now

#: Refresh this many seconds before the token's announced expiry.
_EXPIRY_MARGIN_S = 60.0
_AUTH_RETRIES = 3


def api_key_authenticator(api_key: str) -> APIKeyAuthenticator:
    """The public API's `x-api-key` header."""
    return APIKeyAuthenticator(key="x-api-key", value=api_key, location="header")


class ConsoleTokenAuth(requests.auth.AuthBase):
    """Adds `Authorization: Bearer <token>`, logging in / refreshing as needed."""

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = 60.0,
    ) -> None:
        self._auth_base = str(config.get("auth_base_url", "")).rstrip("/")
        self._email = config.get("console_email")
        self._password = config.get("console_password")
        self._totp_secret = config.get("console_totp_secret")
        self._organization_id = config.get("organization_id")
        self._session = session or requests.Session()
        self._clock = clock
        self._timeout = timeout
        self._lock = threading.Lock()
        self._access: str | None = config.get("console_access_token")
        self._refresh: str | None = None
        self._expires_at: float | None = None
        self._pre_issued = bool(self._access)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        if self._organization_id:
            request.headers["X-Didit-Organization-Id"] = str(self._organization_id)
        return request

    @property
    def can_renew(self) -> bool:
        """Whether a rejected token can be replaced (not for a pre-issued token)."""
        return not self._pre_issued

    def invalidate(self) -> None:
        """Forget the access token, e.g. after the API rejected it with 401."""
        with self._lock:
            self._expires_at = 0.0

    def token(self) -> str:
        """A valid access token, obtained or renewed on demand."""
        with self._lock:
            if self._access and (self._pre_issued or not self._expired()):
                return self._access
            if self._refresh and self._try_refresh():
                return self._access  # type: ignore[return-value]
            self._login()
            return self._access  # type: ignore[return-value]

    def _expired(self) -> bool:
        return self._expires_at is not None and self._clock() >= self._expires_at

    def _store(self, body: Mapping[str, Any]) -> None:
        self._access = body["access_token"]
        self._refresh = body.get("refresh_token") or self._refresh
        expires_in = float(body.get("expires_in") or 3600)
        self._expires_at = self._clock() + max(expires_in - _EXPIRY_MARGIN_S, 1.0)

    def _try_refresh(self) -> bool:
        response = self._post("/token/refresh/", {"refresh_token": self._refresh})
        if response.status_code == 200 and "access_token" in (body := response.json()):
            self._store(body)
            return True
        self._refresh = None
        return False

    def _login(self) -> None:
        if not (self._email and self._password):
            raise DiditAuthError(
                "The audit_logs stream needs a Console user: set console_email and "
                "console_password (and console_totp_secret if 2FA is on), or "
                "console_access_token."
            )
        response = self._post(
            "/programmatic/login/", {"email": self._email, "password": self._password}
        )
        if response.status_code != 200:
            raise DiditAuthError(
                f"Console login refused (HTTP {response.status_code}): check console_email "
                "and console_password, and that auth_base_url points at Didit's auth service."
            )
        body = response.json()
        if body.get("2fa_required"):
            body = self._complete_2fa(body.get("temp_token"))
        if "access_token" not in body:
            raise DiditAuthError("Console login returned no access token; check auth_base_url.")
        self._store(body)

    def _complete_2fa(self, temp_token: str | None) -> Mapping[str, Any]:
        if not self._totp_secret:
            raise DiditAuthError(
                "The Console account has 2FA enabled: set console_totp_secret (the base32 "
                "secret of the authenticator app)."
            )
        otp = totp_now(str(self._totp_secret))
        response = self._post("/2fa/verify/", {"temp_token": temp_token, "otp_token": otp})
        if response.status_code != 200:
            raise DiditAuthError(
                f"Console 2FA verification refused (HTTP {response.status_code}): check "
                "console_totp_secret and the machine clock (TOTP codes last 30 seconds)."
            )
        return response.json()

    def _post(self, path: str, payload: Mapping[str, Any]) -> requests.Response:
        """POST to the auth service, retrying transient failures a few times."""
        url = f"{self._auth_base}{path}"
        for attempt in range(1, _AUTH_RETRIES + 1):
            try:
                response = self._session.post(url, json=payload, timeout=self._timeout)
            except (requests.ConnectionError, requests.Timeout):
                if attempt == _AUTH_RETRIES:
                    raise DiditAuthError(
                        f"Cannot reach the auth service at auth_base_url ({self._auth_base})."
                    ) from None
            else:
                if response.status_code < 500 and response.status_code != 429:
                    return response
                if attempt == _AUTH_RETRIES:
                    return response
            time.sleep(min(2.0**attempt, 10.0))
        raise AssertionError("unreachable")  # pragma: no cover
