"""NIS2 thresholds the planted scenarios are built around, read from their one cited home:
dbt's seed ``transform/seeds/nis2_thresholds.csv`` (each row carries its legal source), so
the simulator, its tests and the marts can never disagree about a number."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

SEED = Path(__file__).resolve().parents[1] / "transform" / "seeds" / "nis2_thresholds.csv"


@cache
def _rows() -> tuple[dict[str, str], ...]:
    if not SEED.exists():
        raise FileNotFoundError(f"{SEED} not found: the simulator reads NIS2 thresholds from it")
    with SEED.open(encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


def threshold(code: str) -> int | float:
    """The seed's value for its ``threshold_code`` (unique, unlike ``criterion_code``: Art. 3(1)(a)
    has an amount and a share), e.g. ``threshold("ART23_NOTIFICATION_HOURS")`` -> 72."""
    found = [r for r in _rows() if r["threshold_code"] == code]
    if not found:
        raise KeyError(f"{SEED.name} has no threshold_code {code!r}")
    value = float(found[0]["value"])
    return int(value) if value.is_integer() else value


def early_warning_hours() -> int:
    """Directive (EU) 2022/2555 Art. 23(4)(a)."""
    return int(threshold("ART23_EARLY_WARNING_HOURS"))


def notification_hours() -> int:
    """Directive (EU) 2022/2555 Art. 23(4)(b)."""
    return int(threshold("ART23_NOTIFICATION_HOURS"))


def recurring_window_months() -> int:
    """IR 2024/2690 Art. 4: the same apparent root cause within this many months."""
    return int(threshold("IR4_RECURRING_WINDOW_MONTHS"))


def loss_threshold_eur(turnover_eur: int) -> int | float:
    """IR 2024/2690 Art. 3(1)(a): the lower of the fixed amount and the share of turnover."""
    fixed = threshold("IR3_1_A_LOSS_EUR")
    return min(fixed, turnover_eur * threshold("IR3_1_A_LOSS_TURNOVER_PCT") / 100)
