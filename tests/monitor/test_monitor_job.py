"""The monitoring job in meltano.yml: event sources only, a dbt selection, then the alerts."""

from __future__ import annotations

import tomllib

import yaml

from nis2_settings import ROOT

PROJECT = yaml.safe_load((ROOT / "meltano.yml").read_text())
JOBS = {job["name"]: job["tasks"] for job in PROJECT["jobs"]}
UTILITIES = {u["name"]: u for u in PROJECT["plugins"]["utilities"]}


def test_monitor_job_loads_event_sources_then_builds_a_selection_then_alerts() -> None:
    assert JOBS["nis2-monitor"] == [
        "nis2-checks:lease-monitor",
        "tap-didit-audit target-postgres",
        "wazuh-spool:prepare",
        "tap-wazuh target-postgres",
        "wazuh-spool:commit",
        "tap-keycloak-events target-postgres",
        "dbt-postgres:monitor",
        "nis2-alerts:deliver",
        "nis2-checks:release",
    ]
    assert "nis2-monitor" in {s["job"] for s in PROJECT["schedules"]}
    extractors = {p["name"]: p for p in PROJECT["plugins"]["extractors"]}
    assert extractors["tap-didit-audit"]["select"] == ["audit_logs.*"]
    assert extractors["tap-keycloak-events"]["select"] == [
        "public-event_entity.*",
        "public-admin_event_entity.*",
    ]


def test_dbt_monitor_selects_every_mart_the_alerts_read_except_the_register_based_one() -> None:
    args = UTILITIES["dbt-postgres"]["commands"]["monitor"]["args"]
    assert args.startswith("run --select ")
    sources = tomllib.loads((ROOT / "monitor" / "finding_sources.toml").read_text())["source"]
    relations = {s["relation"] for s in sources}
    # the deadlines come from the incident register, which the daily job loads and builds
    assert {r for r in relations if f"+{r}" not in args} == {"mart_nis2_reporting_deadlines"}


def test_alert_urls_are_a_sensitive_setting() -> None:
    settings = {s["name"]: s for s in UTILITIES["nis2-alerts"]["settings"]}
    assert settings["notify_urls"]["sensitive"] is True
    assert settings["conninfo"]["sensitive"] is True
    assert UTILITIES["nis2-alerts"]["executable"] == "nis2-monitor"
