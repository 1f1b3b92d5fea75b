"""Run a Singer tap in place of a wrapper: the wrapper's own settings out of its config, the
incoming state replaced (or dropped), everything else passed through unchanged.

Meltano calls a tap as `<executable> --config <file> [--state <file>] [--catalog <file>]`,
`--discover` or `--about`. The wrappers (incidents_tap, keycloak_tap) read those files, then
replace themselves with the real tap (exec: same pid, stdout and signals, no copy of the Singer
stream). The edited config and state reach it as in-memory files (/dev/fd/N of a memfd): no
temporary file to leak and no secret written anywhere new.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

# Invocations that read no data: no check, no state.
NOT_SYNCING = {"--discover", "--about", "--help", "--version"}


class WrapperError(RuntimeError):
    """A setting or file the wrapper cannot use; the message names it."""


@dataclass
class TapArgs:
    """A tap's command line, split into what a wrapper edits and what it passes on."""

    configs: list[str] = field(default_factory=list)
    state: str | None = None
    rest: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, argv: list[str]) -> TapArgs:
        args, items = cls(), iter(argv)
        for arg in items:
            name, eq, value = arg.partition("=")
            if name in {"--config", "--state"}:
                if not eq:
                    value = next(items, "")
                if not value:
                    raise WrapperError(f"{name} needs a file")
                if name == "--config":
                    args.configs.append(value)
                else:
                    args.state = value
            else:
                args.rest.append(arg)
        return args

    @property
    def syncing(self) -> bool:
        return not NOT_SYNCING.intersection(self.rest)


def read_json(path: str, what: str) -> dict:
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WrapperError(f"cannot read the {what} {path}: {exc}") from None
    if not isinstance(value, dict):
        raise WrapperError(f"the {what} {path} is not a JSON object")
    return value


def merged_config(args: TapArgs) -> dict:
    """The configs in order, later keys winning (as the Singer SDK merges them)."""
    config: dict = {}
    for path in args.configs:
        config.update(read_json(path, "tap config"))
    return config


def flag(value: object, setting: str) -> bool:
    """A boolean setting as Meltano passes it (true/false, or text from the environment)."""
    if isinstance(value, bool) or value is None:
        return bool(value)
    text = str(value).strip().lower()
    if text in {"true", "1", "yes"}:
        return True
    if text in {"false", "0", "no", ""}:
        return False
    raise WrapperError(f"{setting} must be true or false")


def _memory_file(name: str, value: dict) -> str:
    fd = os.memfd_create(name, 0)  # no close-on-exec: the tap opens /dev/fd/<fd>
    os.write(fd, json.dumps(value).encode())
    return f"/dev/fd/{fd}"


def _executable(name: str) -> str:
    beside = Path(sys.executable).parent / name  # the plugin's own venv
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise WrapperError(f"{name} is not installed beside {sys.executable} nor on PATH")
    return found


def exec_tap(name: str, config: dict, rest: list[str], state: dict | None) -> NoReturn:
    """Become tap `name` with this config and state (None: no state, read from scratch)."""
    argv = [name, "--config", _memory_file("config", config)]
    if state is not None:
        argv += ["--state", _memory_file("state", state)]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(_executable(name), [*argv, *rest])  # noqa: S606 - argv as Meltano gave it
