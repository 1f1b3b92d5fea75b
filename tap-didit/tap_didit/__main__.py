"""Allow `python -m tap_didit`."""

from tap_didit.tap import TapDidit

TapDidit.cli()
