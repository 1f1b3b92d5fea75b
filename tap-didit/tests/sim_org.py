"""The repository's Didit simulator, as the tap's tests use it.

One small organisation is generated per test session; each test serves its own copy
(data faults write to the store) on a free port.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.credentials import (
    CONSOLE_EMAIL,
    CONSOLE_PASSWORD,
    CONSOLE_TOTP_SECRET,
    READONLY_API_KEY,
)
from simulator.didit_api import SimulatorServer, start_server
from simulator.world import generate_world

DAYS = 30
API_CALLS_PER_DAY = 120
#: The credentials first, then the Console user's email (a secret setting, but also data).
SECRETS = (READONLY_API_KEY, CONSOLE_PASSWORD, CONSOLE_TOTP_SECRET, CONSOLE_EMAIL)


def generate(out_dir: Path) -> Path:
    """A small organisation; returns its Didit data folder."""
    generate_world(out_dir, seed=7, days=DAYS, api_calls_per_day=API_CALLS_PER_DAY)
    return out_dir / "didit"


@dataclass
class Sim:
    """A running simulator and the tap settings that reach it."""

    server: SimulatorServer
    organisation: dict[str, Any]

    def config(self, **overrides: Any) -> dict[str, Any]:
        """Fast settings: no pacing, tiny backoff; every stream reachable."""
        base = self.server.base_url
        return {
            "api_key": READONLY_API_KEY,
            "base_url": f"{base}/v3",
            "console_base_url": f"{base}/v3",
            "auth_base_url": f"{base}/auth/v2",
            "console_email": CONSOLE_EMAIL,
            "console_password": CONSOLE_PASSWORD,
            "console_totp_secret": CONSOLE_TOTP_SECRET,
            "organization_id": self.organisation["organization_id"],
            "application_id": self.organisation["application_id"],
            "max_requests_per_minute": 0,
            "backoff_factor_seconds": 0.01,
            "max_wait_seconds": 5,
            "request_timeout_seconds": 10,
            **overrides,
        }


def serve_copy(data_dir: Path, workdir: Path, **server_options: Any) -> Sim:
    """Copy the organisation into `workdir` and serve it."""
    copy = workdir / "didit"
    shutil.copytree(data_dir, copy)
    organisation = json.loads((copy / "organisation.json").read_text())
    server = start_server(data_dir=copy, **{"rate_limit": False, **server_options})
    return Sim(server, organisation)
