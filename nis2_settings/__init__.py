"""Where things live and how to reach them: one place for paths, ports and connection settings,
shared by every package of this repository (pipeline, report, simulator, tests).

Every value can be overridden by an environment variable, so the same code runs the demo
(embedded Postgres + simulated Didit) and production (your server, your Didit account).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from psycopg.conninfo import make_conninfo

ROOT = Path(__file__).resolve().parents[1]


class SettingsError(ValueError):
    """A setting (environment variable) has a value we cannot use; the message names it."""


def _env_port(name: str, default: int) -> int:
    text = os.environ.get(name, str(default))
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SettingsError(f"{name} must be a TCP port number (1-65535), got {text!r}")
    return int(text)


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).resolve() if value else default


@dataclass(frozen=True)
class Paths:
    """Runtime folders, all inside the repository's ignored `var/` unless overridden."""

    var: Path

    @property
    def pg(self) -> Path:
        return self.var / "pg"

    @property
    def org(self) -> Path:
        return self.var / "org"

    @property
    def report(self) -> Path:
        return self.var / "report"

    @property
    def logs(self) -> Path:
        return self.var / "log"

    @classmethod
    def from_env(cls) -> Paths:
        return cls(var=_env_path("NIS2_VAR_DIR", ROOT / "var"))


@dataclass(frozen=True)
class PgSettings:
    """Connection to the warehouse server (embedded by default)."""

    host: str
    port: int
    user: str
    password: str
    warehouse_db: str
    keycloak_db: str
    embedded: bool

    @classmethod
    def from_env(cls) -> PgSettings:
        return cls(
            host=os.environ.get("NIS2_PG_HOST", "127.0.0.1"),
            port=_env_port("NIS2_PG_PORT", 25432),
            user=os.environ.get("NIS2_PG_USER", "postgres"),
            password=os.environ.get("NIS2_PG_PASSWORD", ""),
            warehouse_db=os.environ.get("NIS2_PG_DATABASE", "warehouse"),
            keycloak_db=os.environ.get("NIS2_KEYCLOAK_DATABASE", "keycloak"),
            embedded=os.environ.get("NIS2_PG_EMBEDDED", "true").lower() not in {"0", "false", "no"},
        )

    def conninfo(self, dbname: str | None = None) -> str:
        """A libpq conninfo string; the password is passed but never printed (see `display`)."""
        parts = {
            "host": self.host,
            "port": str(self.port),
            "user": self.user,
            "dbname": dbname or self.warehouse_db,
        }
        if self.password:
            parts["password"] = self.password
        return make_conninfo(**parts)  # quotes values with spaces, quotes or backslashes

    def sqlalchemy_url(self, dbname: str | None = None) -> str:
        """The URL target-postgres takes (it insists on a password with host/user/port)."""
        secret = f":{quote(self.password, safe='')}" if self.password else ""
        db = dbname or self.warehouse_db
        return (
            f"postgresql+psycopg://{quote(self.user, safe='')}{secret}@{self.host}:{self.port}/{db}"
        )

    def display(self, dbname: str | None = None) -> str:
        """A connection URL safe to print: the password is masked."""
        secret = ":***" if self.password else ""
        db = dbname or self.warehouse_db
        return f"postgresql://{self.user}{secret}@{self.host}:{self.port}/{db}"


def simulator_port() -> int:
    return _env_port("DIDIT_SIM_PORT", 8765)


def _env_int(name: str, default: int, minimum: int = 0) -> int:
    text = os.environ.get(name, "").strip() or str(default)
    if not text.lstrip("-").isdigit() or int(text) < minimum:
        raise SettingsError(f"{name} must be a whole number >= {minimum}, got {text!r}")
    return int(text)


def _env_bool(name: str, default: bool) -> bool:
    text = os.environ.get(name, "").strip().lower()
    if not text:
        return default
    if text not in {"1", "0", "true", "false", "yes", "no"}:
        raise SettingsError(f"{name} must be true or false, got {text!r}")
    return text in {"1", "true", "yes"}


def _notify_urls(text: str) -> tuple[str, ...]:
    """Apprise URLs: a JSON list (as Meltano passes arrays) or separated by whitespace."""
    text = text.strip()
    if text.startswith("["):
        import json

        try:
            items = json.loads(text)
        except ValueError:
            raise SettingsError("NIS2_ALERT_URLS looks like a JSON list but is not one") from None
        return tuple(str(item).strip() for item in items if str(item).strip())
    return tuple(text.split())


@dataclass(frozen=True)
class AlertSettings:
    """The monitoring job's alert delivery (monitor/, README "Monitoring and alerts").

    `urls` and `conninfo` hold secrets: they are left out of repr and never printed."""

    urls: tuple[str, ...] = field(repr=False)
    conninfo: str = field(repr=False)
    marts_schema: str
    dashboard_url: str
    deadline_hours: int
    sources_file: Path
    internal_names: bool
    retry_base_seconds: int
    retry_max_seconds: int

    @classmethod
    def from_env(cls) -> AlertSettings:
        return cls(
            urls=_notify_urls(os.environ.get("NIS2_ALERT_URLS", "")),
            conninfo=os.environ.get("NIS2_PG_CONNINFO") or PgSettings.from_env().conninfo(),
            marts_schema=os.environ.get("NIS2_MARTS_SCHEMA") or "analytics_nis2",
            dashboard_url=os.environ.get("NIS2_ALERT_DASHBOARD_URL") or "http://127.0.0.1:18088",
            deadline_hours=_env_int("NIS2_ALERT_DEADLINE_HOURS", 12),
            sources_file=_env_path("NIS2_ALERT_SOURCES", ROOT / "monitor" / "finding_sources.toml"),
            internal_names=_env_bool("NIS2_ALERT_INTERNAL_NAMES", False),
            retry_base_seconds=_env_int("NIS2_ALERT_RETRY_BASE_SECONDS", 30),
            retry_max_seconds=_env_int("NIS2_ALERT_RETRY_MAX_SECONDS", 900),
        )
