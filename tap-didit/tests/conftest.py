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
