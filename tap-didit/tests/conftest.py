"""Shared fixtures for the tap-didit tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_didit_server import FakeDidit
from pytest_httpserver import HTTPServer
from sim_org import Sim, generate, serve_copy


@pytest.fixture
def didit(httpserver: HTTPServer) -> FakeDidit:
    """A fresh fake Didit for one test."""
    fake = FakeDidit(httpserver)
    fake.install()
    return fake


@pytest.fixture
def backoff_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record every backoff wait instead of sleeping it (tests never wait out a window)."""
    import types

    import backoff._sync

    waits: list[float] = []
    monkeypatch.setattr(backoff._sync, "time", types.SimpleNamespace(sleep=waits.append))
    return waits


@pytest.fixture(scope="session")
def sim_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One simulated organisation for the whole test session."""
    return generate(tmp_path_factory.mktemp("org"))


@pytest.fixture
def sim(sim_data: Path, tmp_path: Path) -> Iterator[Sim]:
    """A fresh copy of the organisation served by the simulator (rate limit off)."""
    running = serve_copy(sim_data, tmp_path)
    yield running
    running.server.stop()
