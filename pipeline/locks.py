"""Lock files: the exact, hashed versions every install of this project resolves to.

- `locks/project.txt`: the project's own venv (`make install`), both packages of this
  repository with all their extras; `make` installs from it with hashes required.
- `locks/plugins/<plugin>.txt`: one per Meltano plugin, compiled from the plugin's `pip_url`
  in meltano.yml; the `pip_url` hands it to `uv pip install` as `--constraint`, so
  `meltano install` resolves the same indirect versions everywhere (and checks their hashes).

Refresh them with `make lock` (`python -m pipeline.locks [plugin ...]`) after changing a pin in
pyproject.toml or a `pip_url`, then `make install` and `meltano install`. Upgrading an indirect
dependency is the same command: the locks take the newest versions the pins allow.
"""

from __future__ import annotations

import argparse
import itertools
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from nis2_settings import ROOT

LOCK_DIR = ROOT / "locks"
PROJECT_LOCK = LOCK_DIR / "project.txt"
PLUGIN_LOCKS = LOCK_DIR / "plugins"
PYTHON_VERSION = "3.11"
# The project venv: this repository's two packages, every extra the Makefile installs.
# (uv applies an extra to each source that declares it.)
PROJECT_SOURCES = (ROOT / "pyproject.toml", ROOT / "tap-didit" / "pyproject.toml")
PROJECT_EXTRAS = {"demo", "report", "dev", "monitor"}
CONSTRAINT_OPTIONS = ("--constraint", "-c")


class LockError(RuntimeError):
    """A pip_url this tool cannot compile, or uv failed; the message names the plugin."""


@dataclass
class Inputs:
    """What one lock is compiled from: local projects (with extras) and plain requirements."""

    pyprojects: list[Path] = field(default_factory=list)
    extras: set[str] = field(default_factory=set)
    requirements: list[str] = field(default_factory=list)


def plugin_lock_path(name: str) -> Path:
    return PLUGIN_LOCKS / f"{name}.txt"


def plugins(meltano_yml: Path = ROOT / "meltano.yml") -> dict[str, str]:
    """Every plugin of meltano.yml that Meltano installs: name -> pip_url."""
    project = yaml.safe_load(meltano_yml.read_text())
    return {
        plugin["name"]: plugin["pip_url"]
        for group in project.get("plugins", {}).values()
        for plugin in group
        if plugin.get("pip_url")
    }


def _local_project(spec: str, plugin: str) -> tuple[Path, set[str]]:
    path, _, extras = spec.partition("[")
    pyproject = (ROOT / path).resolve() / "pyproject.toml"
    if not pyproject.is_file():
        raise LockError(f"{plugin}: pip_url names {spec!r}, which has no pyproject.toml")
    return pyproject, {e.strip() for e in extras.rstrip("]").split(",") if e.strip()}


def inputs_of(pip_url: str, plugin: str) -> Inputs:
    """Parse a pip_url as Meltano does (shlex), leaving out the lock's own --constraint."""
    tokens = shlex.split(pip_url)
    inputs = Inputs()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in CONSTRAINT_OPTIONS:
            i += 2
            continue
        if token in ("-e", "--editable"):
            pyproject, extras = _local_project(tokens[i + 1], plugin)
            inputs.pyprojects.append(pyproject)
            inputs.extras |= extras
            i += 2
            continue
        if token.startswith("-"):
            raise LockError(f"{plugin}: pip_url option {token!r} is not supported by the locks")
        if token.startswith((".", "/")):
            pyproject, extras = _local_project(token, plugin)
            inputs.pyprojects.append(pyproject)
            inputs.extras |= extras
        else:
            inputs.requirements.append(token)
        i += 1
    return inputs


def compile_lock(inputs: Inputs, output: Path, uv: Path) -> None:
    """`uv pip compile` the inputs into `output`, hashed, for this project's Python."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        sources = [str(p) for p in inputs.pyprojects]
        if inputs.requirements:
            req = Path(tmp) / "requirements.in"
            req.write_text("\n".join(inputs.requirements) + "\n")
            sources.append(str(req))
        extras = [arg for extra in sorted(inputs.extras) for arg in ("--extra", extra)]
        cmd = [str(uv), "pip", "compile", *sources, *extras, "--generate-hashes", "--no-header"]
        cmd += ["--quiet", "--python-version", PYTHON_VERSION, "--output-file", str(output)]
        result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LockError(f"uv pip compile for {output.name} failed:\n{result.stderr[-3000:]}")


def refresh(uv: Path, only: set[str] | None = None) -> list[Path]:
    """Compile every lock (or the named plugins' only); returns the files written."""
    written: list[Path] = []
    if not only:
        compile_lock(Inputs(list(PROJECT_SOURCES), set(PROJECT_EXTRAS)), PROJECT_LOCK, uv)
        written.append(PROJECT_LOCK)
    for name, pip_url in plugins().items():
        if only and name not in only:
            continue
        print(f"locking {name} ...", flush=True)
        compile_lock(inputs_of(pip_url, name), plugin_lock_path(name), uv)
        written.append(plugin_lock_path(name))
    return written


def missing_constraints(meltano_yml: Path = ROOT / "meltano.yml") -> list[str]:
    """Plugins whose pip_url does not hand their lock file to the installer."""
    missing = []
    for name, pip_url in plugins(meltano_yml).items():
        tokens = shlex.split(pip_url)
        expected = f"${{MELTANO_PROJECT_ROOT}}/locks/plugins/{name}.txt"
        pairs = set(itertools.pairwise(tokens))
        if not any((opt, expected) in pairs for opt in CONSTRAINT_OPTIONS):
            missing.append(name)
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.locks", description=__doc__)
    parser.add_argument("plugins", nargs="*", help="only these plugins (default: every lock)")
    parser.add_argument("--uv", default=str(Path(sys.executable).parent / "uv"))
    args = parser.parse_args(argv)
    try:
        for path in refresh(Path(args.uv), set(args.plugins)):
            print(f"wrote {path.relative_to(ROOT)}")
    except LockError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    unlocked = missing_constraints()
    if unlocked:
        print(
            "error: these plugins' pip_url does not pass their lock as --constraint "
            f"${{MELTANO_PROJECT_ROOT}}/locks/plugins/<name>.txt: {', '.join(unlocked)}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
