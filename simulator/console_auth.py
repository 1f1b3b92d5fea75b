"""The Console's programmatic login, TOTP second factor and bearer tokens (ASSUMED contract,
docs/contracts.md): what the audit-log route needs. Tokens live in memory only."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

from simulator.credentials import CONSOLE_EMAIL, CONSOLE_PASSWORD, CONSOLE_TOTP_SECRET
from simulator.organisation import AUDIT_LOG_ROLES
from simulator.totp import verify

TEMP_TOKEN_TTL_S = 300  # Didit: the 2FA temp token is valid 5 minutes
REFRESH_TOKEN_TTL_S = 7 * 86400
LOCKOUT_AFTER, LOCKOUT_S = 5, 900  # Didit: 5 failed logins lock the account for 15 minutes


class AuthError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


@dataclass
class Principal:
    email: str
    role: str

    @property
    def can_read_audit_logs(self) -> bool:
        return self.role in AUDIT_LOG_ROLES


@dataclass
class ConsoleAuth:
    members: dict[str, str]  # email -> Console role
    access_ttl_s: int = 86400
    clock: callable = time.time  # type: ignore[valid-type]
    _tokens: dict[str, tuple[str, str, float]] = field(
        default_factory=dict
    )  # token->kind,email,exp
    _failures: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _issue(self, kind: str, email: str, ttl: float) -> str:
        token = secrets.token_urlsafe(32)
        self._tokens[token] = (kind, email, self.clock() + ttl)
        return token

    def _tokens_for(self, email: str) -> dict:
        return {
            "access_token": self._issue("access", email, self.access_ttl_s),
            "refresh_token": self._issue("refresh", email, REFRESH_TOKEN_TTL_S),
            "expires_in": self.access_ttl_s,
        }

    def _take(self, token: object, kind: str) -> str:
        entry = self._tokens.get(token) if isinstance(token, str) else None
        if entry is None or entry[0] != kind or entry[2] <= self.clock():
            raise AuthError(401, "Token is invalid or expired.")
        return entry[1]

    def login(self, body: dict) -> dict:
        email, password = body.get("email"), body.get("password")
        if not isinstance(email, str) or not isinstance(password, str):
            raise AuthError(400, "Both email and password are required.")
        with self._lock:
            now = self.clock()
            recent = [t for t in self._failures.get(email, []) if t > now - LOCKOUT_S]
            if len(recent) >= LOCKOUT_AFTER:
                raise AuthError(429, "Too many failed login attempts. Try again later.")
            if email not in self.members or not secrets.compare_digest(password, CONSOLE_PASSWORD):
                self._failures[email] = [*recent, now]
                raise AuthError(401, "Invalid email or password.")
            self._failures.pop(email, None)
            if email == CONSOLE_EMAIL:  # the only member enrolled in TOTP
                return {
                    "2fa_required": True,
                    "temp_token": self._issue("temp", email, TEMP_TOKEN_TTL_S),
                }
            return self._tokens_for(email)

    def verify_2fa(self, body: dict) -> dict:
        with self._lock:
            email = self._take(body.get("temp_token"), "temp")
            otp = body.get("otp_token")
            if not isinstance(otp, str) or not verify(CONSOLE_TOTP_SECRET, otp, self.clock()):
                raise AuthError(401, "Invalid or expired OTP code.")
            self._tokens.pop(body["temp_token"], None)
            return self._tokens_for(email)

    def refresh(self, body: dict) -> dict:
        with self._lock:
            email = self._take(body.get("refresh_token"), "refresh")
            return {
                "access_token": self._issue("access", email, self.access_ttl_s),
                "expires_in": self.access_ttl_s,
            }

    def principal(self, authorization: str | None) -> Principal:
        """The member behind an ``Authorization: Bearer`` header (401 if absent or stale)."""
        if not authorization or not authorization.startswith("Bearer "):
            raise AuthError(401, "Authentication credentials were not provided.")
        with self._lock:
            email = self._take(authorization[len("Bearer ") :].strip(), "access")
        return Principal(email, self.members[email])

    def reset(self) -> None:
        with self._lock:
            self._failures.clear()
