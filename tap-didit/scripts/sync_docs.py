"""Regenerate the README settings table and the Meltano Hub settings from the tap.

Run after changing a setting: `python tap-didit/scripts/sync_docs.py`. The tests in
tests/test_tap_publishing.py fail until both files agree with the tap again.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from tap_didit.settings import CONFIG_SCHEMA

ROOT = Path(__file__).resolve().parents[1]
HUB_KINDS = {"string": "string", "integer": "integer", "number": "decimal", "boolean": "boolean"}


def hub_setting(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """One Meltano Hub setting entry from a JSON-schema property."""
    types = [t for t in spec["type"] if t != "null"]
    entry: dict[str, Any] = {"name": name, "label": spec.get("title", name)}
    if spec.get("format") == "date-time":
        entry["kind"] = "date_iso8601"
    elif "enum" in spec:
        entry["kind"] = "options"
        entry["options"] = [{"label": v, "value": v} for v in spec["enum"]]
    else:
        entry["kind"] = HUB_KINDS.get(types[0], types[0])
    entry["description"] = spec.get("description", "")
    if spec.get("secret"):
        entry["sensitive"] = True
    if "default" in spec:
        entry["value"] = spec["default"]
    return entry


def sync_hub() -> None:
    path = ROOT / "meltano-hub.yml"
    text = path.read_text()
    header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    hub = yaml.safe_load(text)
    hub["settings"] = [hub_setting(n, s) for n, s in CONFIG_SCHEMA["properties"].items()]
    path.write_text(header + yaml.safe_dump(hub, sort_keys=False, width=100, allow_unicode=True))


def sync_readme() -> None:
    about = subprocess.run(
        [sys.executable, "-m", "tap_didit", "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    table = "\n".join(line for line in about.splitlines() if line.startswith("|"))
    path = ROOT / "README.md"
    readme = path.read_text()
    pattern = re.compile(r"^\| Setting \|.*?(?=\n(?!\|))", re.MULTILINE | re.DOTALL)
    path.write_text(pattern.sub(lambda _m: table, readme, count=1))


if __name__ == "__main__":
    sync_hub()
    sync_readme()
    print("README.md and meltano-hub.yml now match the tap's settings.")
