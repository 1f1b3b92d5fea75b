"""Shared fixtures for the tap-didit tests."""

from __future__ import annotations

import pytest
from fake_didit_server import FakeDidit
from pytest_httpserver import HTTPServer


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
