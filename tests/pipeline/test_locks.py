"""Lock files: every Meltano plugin installs against its hashed lock, and what is installed is
what the locks say (the versions are read from the plugin venvs, not from the lock code)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from nis2_settings import ROOT
from pipeline.locks import (
    PLUGIN_LOCKS,
    PROJECT_LOCK,
    LockError,
    inputs_of,
    missing_constraints,
    plugin_lock_path,
    plugins,
)

PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)", re.MULTILINE)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(lock: Path) -> dict[str, str]:
    return {_canonical(name): version for name, version in PIN.findall(lock.read_text())}


def installed_versions(python: Path) -> dict[str, str]:
    """`uv pip freeze` of a venv: name -> version, editable installs of this repo left out."""
    uv = Path(sys.executable).parent / "uv"
    result = subprocess.run(
        [str(uv), "pip", "freeze", "--python", str(python)],
        capture_output=True,
        text=True,
        check=True,
    )
    return {_canonical(n): v for n, v in PIN.findall(result.stdout)}


def test_every_plugin_hands_its_own_lock_to_the_installer() -> None:
    assert missing_constraints() == []


def test_every_plugin_has_a_lock_and_no_lock_is_stray() -> None:
    names = set(plugins())
    assert {p.stem for p in PLUGIN_LOCKS.glob("*.txt")} == names
    for name in names:
        assert locked_versions(plugin_lock_path(name)), f"{name}'s lock pins nothing"


def test_every_lock_pins_with_hashes() -> None:
    for lock in [PROJECT_LOCK, *PLUGIN_LOCKS.glob("*.txt")]:
        text = lock.read_text()
        pins = len(PIN.findall(text))
        assert pins, f"{lock.name} pins nothing"
        assert text.count("--hash=sha256:") >= pins, f"{lock.name} has unhashed pins"


def test_the_check_finds_a_plugin_without_its_lock(tmp_path: Path) -> None:
    yml = tmp_path / "meltano.yml"
    yml.write_text(
        "plugins:\n  extractors:\n"
        "  - {name: tap-a, pip_url: 'tap-a==1.0 --constraint ${MELTANO_PROJECT_ROOT}/locks/plugins/tap-a.txt'}\n"  # noqa: E501
        "  - {name: tap-b, pip_url: 'tap-b==1.0'}\n"
        "  - {name: tap-c, pip_url: 'tap-c==1.0 -c ${MELTANO_PROJECT_ROOT}/locks/plugins/tap-a.txt'}\n"  # noqa: E501
        "  utilities:\n  - {name: local-only, executable: x}\n"
    )
    assert missing_constraints(yml) == ["tap-b", "tap-c"]


def test_pip_url_parsing_keeps_local_projects_extras_and_requirements() -> None:
    inputs = inputs_of(
        "-e .[report] tap-spreadsheets==1.1.2 --constraint /x/locks/plugins/a.txt", "a"
    )
    assert inputs.pyprojects == [ROOT / "pyproject.toml"]
    assert inputs.extras == {"report"}
    assert inputs.requirements == ["tap-spreadsheets==1.1.2"]
    with pytest.raises(LockError, match="b: pip_url option '--pre'"):
        inputs_of("--pre thing==1", "b")
    with pytest.raises(LockError, match=r"no pyproject\.toml"):
        inputs_of("-e ./no-such-folder", "c")


def test_the_project_venv_is_what_its_lock_says() -> None:
    locked = locked_versions(PROJECT_LOCK)
    installed = installed_versions(Path(sys.executable))
    # this repo's packages, the uv that installs them, and what `python -m venv` seeds
    own = {"nis2-didit-pipeline", "tap-didit", "uv", "pip", "setuptools"}
    differ = {
        n: (v, locked.get(n)) for n, v in installed.items() if n not in own and locked.get(n) != v
    }
    assert differ == {}, "package: (installed, locked)"


@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(plugins()))
def test_each_installed_plugin_venv_is_what_its_lock_says(name: str, pipeline_run) -> None:
    """After the session's demo run has installed the plugins (`meltano install`)."""
    plugin_type = next(
        folder.name for folder in (ROOT / ".meltano").iterdir() if (folder / name / "venv").is_dir()
    )
    python = ROOT / ".meltano" / plugin_type / name / "venv" / "bin" / "python"
    locked = locked_versions(plugin_lock_path(name))
    installed = installed_versions(python)
    own = {"nis2-didit-pipeline", "tap-didit"}
    differ = {
        n: (v, locked.get(n)) for n, v in installed.items() if n not in own and locked.get(n) != v
    }
    assert differ == {}, f"{name}: package: (installed, locked)"
