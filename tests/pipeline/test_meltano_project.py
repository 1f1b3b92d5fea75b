"""meltano.yml must never need Meltano Hub and must keep secrets out of the file."""

from __future__ import annotations

import re

import pytest
import yaml

from nis2_settings import ROOT
from pipeline.locks import inputs_of

PROJECT = yaml.safe_load((ROOT / "meltano.yml").read_text())
PLUGINS = [(kind, plugin) for kind, plugins in PROJECT["plugins"].items() for plugin in plugins]
PINNED = re.compile(r"^[A-Za-z0-9_.\-\[\],]+==[0-9][0-9A-Za-z.\-+]*$")
SECRET_WORDS = ("password", "api_key", "secret", "token", "pseudonym_key")


def _ids(item: tuple[str, dict]) -> str:
    return item[1]["name"]


@pytest.mark.parametrize("kind_plugin", PLUGINS, ids=_ids)
def test_plugin_is_fully_inline(kind_plugin: tuple[str, dict]) -> None:
    """A custom definition (namespace, pip_url, executable, no variant) never touches the Hub.
    A plugin may inherit only from a plugin of the same kind defined in this file (never from
    the Hub), and then takes its package and executable from it unchanged, and its namespace
    (the raw schema it loads into) too."""
    kind, plugin = kind_plugin
    assert "variant" not in plugin
    if "inherit_from" in plugin:
        parents = {p["name"]: p for p in PROJECT["plugins"][kind] if "inherit_from" not in p}
        assert plugin["inherit_from"] in parents, "inherit only from a plugin of this file"
        for own in ("pip_url", "executable", "variant"):
            assert own not in plugin, f"{own} comes from {plugin['inherit_from']}"
        parent = parents[plugin["inherit_from"]]
        assert plugin.get("namespace") == parent["namespace"], "loads into the parent's schema"
        return
    assert plugin.get("namespace"), "namespace makes it a custom, Hub-free definition"
    assert plugin.get("executable")
    # Meltano installs every plugin, the project's own utilities too (a plain shell's PATH
    # has no venv of ours); the pip_url is read as Meltano and the lock tool read it.
    assert plugin.get("pip_url"), "no pip_url: `meltano install` would not install it"
    inputs = inputs_of(plugin["pip_url"], plugin["name"])
    for requirement in inputs.requirements:
        assert PINNED.match(requirement), f"{requirement} is not an exact pin"
    for pyproject in inputs.pyprojects:
        assert pyproject.is_relative_to(ROOT), f"{pyproject} lies outside the repository"


@pytest.mark.parametrize("kind_plugin", PLUGINS, ids=_ids)
def test_secret_settings_are_sensitive(kind_plugin: tuple[str, dict]) -> None:
    _, plugin = kind_plugin
    for setting in plugin.get("settings", []):
        if any(word in setting["name"] for word in SECRET_WORDS):
            assert setting.get("sensitive") is True, f"{plugin['name']}.{setting['name']}"


def test_prod_environment_holds_no_secret_values() -> None:
    prod = next(env for env in PROJECT["environments"] if env["name"] == "prod")
    text = yaml.safe_dump(prod)
    for word in SECRET_WORDS:
        assert word not in text, f"prod config must take {word} from the environment"


def test_telemetry_off_and_default_environment_set() -> None:
    assert PROJECT["send_anonymous_usage_stats"] is False
    assert PROJECT["default_environment"] == "demo"
    assert "version" not in PROJECT


def test_daily_job_loads_every_source_then_builds() -> None:
    jobs = {job["name"]: job["tasks"] for job in PROJECT["jobs"]}
    daily = jobs["nis2-daily"]
    # (an inheriting extractor is a subset of its parent, which the daily job loads)
    extractors = [p["name"] for p in PROJECT["plugins"]["extractors"] if "inherit_from" not in p]
    for extractor in extractors:
        assert f"{extractor} target-postgres" in daily
    assert daily.index("dbt-postgres:build") > max(
        daily.index(f"{e} target-postgres") for e in extractors
    )
    schedules = {s["job"] for s in PROJECT["schedules"]}
    assert "nis2-daily" in schedules


def test_log_verification_is_its_own_scheduled_job_and_not_in_the_build() -> None:
    """The whole-history re-hash runs on its own schedule; the build leaves out exactly it."""
    dbt = next(u for u in PROJECT["plugins"]["utilities"] if u["name"] == "dbt-postgres")
    tag = "tag:log_integrity_verification"
    assert f"--exclude {tag}" in dbt["commands"]["build"]["args"]
    # a run-operation, so it can record its findings per source-day (macros/log_verification.sql)
    assert dbt["commands"]["verify-logs"]["args"].startswith("run-operation verify_logs ")
    jobs = {job["name"]: job["tasks"] for job in PROJECT["jobs"]}
    assert jobs["nis2-verify-logs"] == [
        "nis2-checks:lease-verify",
        "dbt-postgres:verify-logs",
        "nis2-checks:release",
    ]
    assert "nis2-verify-logs" in {s["job"] for s in PROJECT["schedules"]}
    tagged = (ROOT / "transform" / "tests" / "assert_log_digests_match_raw.sql").read_text()
    assert "tags=['log_integrity_verification']" in tagged


def test_tap_didit_settings_mirror_its_hub_definition() -> None:
    hub = yaml.safe_load((ROOT / "tap-didit" / "meltano-hub.yml").read_text())
    ours = next(p for p in PROJECT["plugins"]["extractors"] if p["name"] == "tap-didit")

    def summary(settings: list[dict]) -> dict[str, bool]:
        return {s["name"]: bool(s.get("sensitive")) for s in settings}

    assert summary(ours["settings"]) == summary(hub["settings"])
    assert sorted(ours["capabilities"]) == sorted(hub["capabilities"])


def test_every_environment_lists_plugins_under_known_types() -> None:
    for environment in PROJECT["environments"]:
        plugins = environment.get("config", {}).get("plugins", {})
        for kind, entries in plugins.items():
            assert kind in PROJECT["plugins"], f"{environment['name']}: {kind}"
            assert entries, f"{environment['name']}: empty {kind} list breaks Meltano"


def _plugin_config(environment: str | None, kind: str, name: str) -> dict:
    if environment is None:
        return next(p for p in PROJECT["plugins"][kind] if p["name"] == name)["config"]
    env = next(e for e in PROJECT["environments"] if e["name"] == environment)
    return next(p for p in env["config"]["plugins"][kind] if p["name"] == name)["config"]


@pytest.mark.parametrize("environment", [None, "demo"])
def test_tap_wazuh_reads_exactly_the_spool_wazuh_spool_fills(environment: str | None) -> None:
    tap = _plugin_config(environment, "extractors", "tap-wazuh")
    spool = _plugin_config(environment, "utilities", "wazuh-spool")
    assert tap["path"] == f"{spool['state_dir']}/spool/*.json"


def test_wazuh_loads_sit_between_spool_prepare_and_commit_without_tap_state() -> None:
    tap = next(p for p in PROJECT["plugins"]["extractors"] if p["name"] == "tap-wazuh")
    assert "state" not in tap["capabilities"], "state partitions make tap-jsonl read N x N"
    loading = [job for job in PROJECT["jobs"] if "tap-wazuh target-postgres" in job["tasks"]]
    assert {job["name"] for job in loading} >= {"nis2-load", "nis2-daily"}
    for job in loading:
        tasks = job["tasks"]
        load = tasks.index("tap-wazuh target-postgres")
        assert tasks[load - 1] == "wazuh-spool:prepare", job["name"]
        assert tasks[load + 1] == "wazuh-spool:commit", job["name"]


def test_every_job_holds_the_pipeline_lease_from_first_task_to_last() -> None:
    """Jobs on one warehouse never overlap (pipeline/job_lease.py): each job's first task takes
    the lease under the job's own name, its last gives it back."""
    checks = next(u for u in PROJECT["plugins"]["utilities"] if u["name"] == "nis2-checks")
    commands = checks["commands"]
    assert commands["release"]["args"] == "lease release"
    for job in PROJECT["jobs"]:
        tasks = job["tasks"]
        first, last = tasks[0], tasks[-1]
        assert first.startswith("nis2-checks:lease-"), job["name"]
        assert last == "nis2-checks:release", job["name"]
        args = commands[first.split(":", 1)[1]]["args"].split()
        assert args[:3] == ["lease", "acquire", job["name"]], job["name"]
        assert sum(t.startswith("nis2-checks:lease-") for t in tasks) == 1, job["name"]
