"""Settings: one clear message per wrong or missing setting, never echoing a value."""

from __future__ import annotations

import pytest
from singer_sdk.exceptions import ConfigValidationError
from tap_didit.tap import TapDidit
from tap_runner import run_tap

VALID = {"api_key": "k-secret-value-1", "start_date": "2026-01-01T00:00:00Z"}


def errors_for(config: dict) -> list[str]:
    with pytest.raises(ConfigValidationError) as failure:
        TapDidit(config=config, parse_env_config=False)
    return failure.value.errors


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"api_key": None}, "'api_key' is required"),
        ({"api_key": 12345}, "'api_key' must be a text value"),
        ({"page_size": "lots"}, "'page_size' must be a whole number"),
        ({"page_size": 0}, "'page_size' must be between 1 and 500"),
        ({"start_date": "yesterday"}, "'start_date'"),
        ({"base_url": "verification.didit.me"}, "'base_url' must be an http(s) URL"),
        ({"session_kinds": ["people"]}, "'session_kinds'"),
        ({"audit_logs_pagination": "pages"}, "'audit_logs_pagination' must be one of"),
        ({"console_totp_secret": "not base32!"}, "'console_totp_secret'"),
        ({"max_requests_per_minute": -1}, "'max_requests_per_minute'"),
    ],
)
def test_bad_setting_gives_one_message_naming_it(change, named):
    config = {**VALID, **change}
    config = {k: v for k, v in config.items() if v is not None}
    errors = errors_for(config)
    assert len(errors) == 1
    assert named in errors[0]
    for value in change.values():
        if isinstance(value, str) and value:
            assert value not in errors[0]
    assert "12345" not in errors[0]


def test_defaults_are_applied():
    tap = TapDidit(config=dict(VALID), parse_env_config=False)
    assert tap.config["max_requests_per_minute"] == 590
    assert tap.config["page_size"] == 100
    assert tap.config["session_kinds"] == ["user", "business"]


def test_secrets_are_declared_secret():
    props = TapDidit.config_jsonschema["properties"]
    secret = {name for name, spec in props.items() if spec.get("secret")}
    assert secret == {
        "api_key",
        "console_email",
        "console_password",
        "console_totp_secret",
        "console_access_token",
    }


@pytest.mark.parametrize(
    ("streams", "named"),
    [({"cases"}, "'organization_id'"), ({"case_events"}, "'application_id'")],
)
def test_stream_specific_settings_are_checked_on_selection(streams, named):
    with pytest.raises(ConfigValidationError) as failure:
        run_tap({**VALID, "base_url": "http://127.0.0.1:9/v3"}, streams)
    assert any(named in e for e in failure.value.errors)


def test_cli_prints_the_message_and_exits_1(tmp_path):
    import subprocess
    import sys

    config = tmp_path / "config.json"
    config.write_text('{"api_key": "k-secret-value-1", "page_size": 9999}')
    done = subprocess.run(
        [sys.executable, "-m", "tap_didit", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "Setting 'page_size' must be between 1 and 500" in done.stderr
    assert "k-secret-value-1" not in done.stderr + done.stdout
