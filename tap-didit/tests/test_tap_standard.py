"""The Singer SDK's standard tap tests (discovery, sync, schemas, keys, final state)."""

from __future__ import annotations

import datetime as dt

import pytest
from fake_didit_server import (
    CONSOLE_EMAIL,
    CONSOLE_PASSWORD,
    TOTP_SECRET,
    FakeDidit,
    seed_all_streams,
)
from pytest_httpserver import HTTPServer
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_didit.tap import TapDidit

ORG, APP = "org-0001", "app-0001"
#: Filled in by the class fixture once the server runs; the SDK runner keeps this dict.
CONFIG: dict = {"api_key": "placeholder", "start_date": "2026-01-01T00:00:00Z"}

_StandardTests = get_tap_test_class(
    TapDidit,
    config=CONFIG,
    suite_config=SuiteConfig(max_records_limit=40, ignore_no_records=False),
    parse_env_config=False,
)


class TestTapDiditStandard(_StandardTests):
    """Every stream must return records and match its schema."""

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def didit_api(cls):
        server = HTTPServer()
        server.start()
        fake = FakeDidit(server)
        fake.install()
        seed_all_streams(fake, ORG, APP, dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        CONFIG.update(
            fake.config(
                console_base_url=fake.base_url,
                auth_base_url=server.url_for("/auth/v2"),
                organization_id=ORG,
                application_id=APP,
                console_email=CONSOLE_EMAIL,
                console_password=CONSOLE_PASSWORD,
                console_totp_secret=TOTP_SECRET,
            )
        )
        yield fake
        server.stop()
