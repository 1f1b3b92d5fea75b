"""What users see before installing: README settings table and the Meltano Hub file."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import yaml
from tap_didit.settings import CONFIG_SCHEMA
from tap_didit.tap import TapDidit

ROOT = Path(__file__).resolve().parents[1]


def about_markdown() -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tap_didit", "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_readme_settings_table_matches_about_output():
    table = [line for line in about_markdown().splitlines() if line.startswith("|")]
    readme = (ROOT / "README.md").read_text().splitlines()
    start = readme.index(table[0])
    assert readme[start : start + len(table)] == table


def load_sync_docs():
    spec = importlib.util.spec_from_file_location("sync_docs", ROOT / "scripts" / "sync_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hub_definition_matches_the_tap():
    hub = yaml.safe_load((ROOT / "meltano-hub.yml").read_text())
    assert hub["name"] == TapDidit.name
    assert hub["executable"] == "tap-didit"
    assert sorted(hub["capabilities"]) == sorted(str(c.value) for c in TapDidit.capabilities)
    props = CONFIG_SCHEMA["properties"]
    hub_settings = {s["name"]: s for s in hub["settings"]}
    assert list(hub_settings) == list(props)
    for name, spec in props.items():
        entry = hub_settings[name]
        assert entry.get("sensitive", False) == spec.get("secret", False), name
        assert entry.get("value") == spec.get("default"), name
        assert entry == load_sync_docs().hub_setting(name, spec), name
    required = set(CONFIG_SCHEMA.get("required", []))
    assert required == {n for group in hub["settings_group_validation"] for n in group}
