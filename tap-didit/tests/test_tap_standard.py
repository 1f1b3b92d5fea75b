"""The Singer SDK's standard tap tests, against the Didit simulator, for every stream."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from sim_org import generate, serve_copy
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_didit.tap import TapDidit

#: Filled in by the class fixture once the simulator runs; the SDK runner keeps this dict.
CONFIG: dict = {"api_key": "placeholder"}

_StandardTests = get_tap_test_class(
    TapDidit,
    config=CONFIG,
    suite_config=SuiteConfig(max_records_limit=40, ignore_no_records=False),
    parse_env_config=False,
)


class TestTapDiditStandard(_StandardTests):
    """Discovery, sync, schemas, primary keys and final state; every stream has records."""

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def simulator(cls):
        with tempfile.TemporaryDirectory(prefix="tap-didit-std-") as tmp:
            sim = serve_copy(generate(Path(tmp) / "org"), Path(tmp))
            CONFIG.update(sim.config())
            yield sim
            sim.server.stop()
