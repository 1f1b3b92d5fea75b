"""Fixtures for the simulator tests: one small generated world, servers on copies of it."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sim_client import Client

from simulator.credentials import CONSOLE_EMAIL, CONSOLE_PASSWORD, CONSOLE_TOTP_SECRET
from simulator.didit_api import SimulatorServer, start_server
from simulator.totp import totp_at
from simulator.world import generate_world

END = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
DAYS = 60
CALLS_PER_DAY = 250
LOGIN = {"email": CONSOLE_EMAIL, "password": CONSOLE_PASSWORD}


def otp_now() -> str:
    return totp_at(CONSOLE_TOTP_SECRET, time.time())


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("org")
    generate_world(out, seed=7, days=DAYS, api_calls_per_day=CALLS_PER_DAY, end=END)
    return out


@pytest.fixture(scope="session")
def ground_truth(world: Path) -> dict:
    return json.loads((world / "ground_truth.json").read_text())


@pytest.fixture(scope="session")
def organisation(world: Path) -> dict:
    return json.loads((world / "didit" / "organisation.json").read_text())


@pytest.fixture(scope="session")
def server(world: Path) -> Iterator[SimulatorServer]:
    """Read-only tests share one server without rate limits."""
    srv = start_server(world / "didit", rate_limit=False)
    yield srv
    srv.stop()


@pytest.fixture
def client(server: SimulatorServer) -> Iterator[Client]:
    c = Client(server.base_url)
    yield c
    c.close()


@pytest.fixture
def make_server(world: Path, tmp_path: Path) -> Iterator[Callable[..., SimulatorServer]]:
    """Servers on a private copy of the data (faults may change it); stopped afterwards."""
    started: list[SimulatorServer] = []

    def make(**options) -> SimulatorServer:
        data = tmp_path / f"didit-{len(started)}"
        shutil.copytree(world / "didit", data)
        srv = start_server(data, **options)
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture(scope="session")
def console_token(server: SimulatorServer) -> str:
    """A Bearer token for the Compliance Officer (login + TOTP), valid for the session."""
    c = Client(server.base_url)
    first = c.call("POST", "/auth/v2/programmatic/login/", body=LOGIN).json()
    done = c.call(
        "POST",
        "/auth/v2/2fa/verify/",
        body={"temp_token": first["temp_token"], "otp_token": otp_now()},
    ).json()
    c.close()
    return done["access_token"]
