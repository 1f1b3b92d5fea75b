"""`nis2-incidents-tap`: tap-incidents' executable, tap-spreadsheets behind a gate.

Before a sync it checks exactly the files the tap's own `files` setting names (the config file
Meltano hands it) with pipeline/register_check.py, prints each problem as
`incident register: file:line: column: problem`, and stops with exit 1, nothing loaded, unless
`allow_invalid_rows` is true (then it warns and loads). Then it becomes tap-spreadsheets 1.1.2
with the same config (without its own setting) and without the incoming state: that tap
bookmarks each file's modification time and skips a file not newer than its bookmark, so a
replaced or restored register with an older mtime would load nothing. Read in full on every
run, the register is upserted on `incident_id` by target-postgres. `--discover` and `--about`
pass straight through.
"""

from __future__ import annotations

import sys

from pipeline import register_check
from pipeline.tap_exec import TapArgs, WrapperError, exec_tap, flag, merged_config

TAP = "tap-spreadsheets"
ALLOW = "allow_invalid_rows"
ALLOW_SETTING = f"tap-incidents' {ALLOW} (TAP_INCIDENTS_ALLOW_INVALID_ROWS)"


def _say(message: str) -> None:
    print(f"incident register: {message}", file=sys.stderr, flush=True)


def gate(config: dict, allow: bool) -> bool:
    """Whether the load may go on: no problem in the register, or problems allowed."""
    problems = register_check.check_files(config.get("files"))
    for problem in problems:
        _say(str(problem))
    if not problems:
        _say("checked, no problem; loading every row")
        return True
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    if allow:
        _say(f"WARNING {count}, loaded anyway because {ALLOW_SETTING} is true")
        return True
    _say(
        f"ERROR {count}: nothing loaded. Correct the rows named above, or set "
        f"{ALLOW_SETTING} to load the register as it is"
    )
    return False


def main(argv: list[str] | None = None) -> int:
    try:
        args = TapArgs.parse(list(sys.argv[1:] if argv is None else argv))
        config = merged_config(args)
        allow = flag(config.pop(ALLOW, False), ALLOW_SETTING)
        if args.syncing and not gate(config, allow):
            return 1
        exec_tap(TAP, config, args.rest, None)  # no state: the whole register, every run
    except WrapperError as exc:
        _say(f"ERROR {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
