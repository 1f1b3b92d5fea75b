"""When each planted scenario happens, fixed by the world's anchor (start day + planned days).

The anchor, not ``end``, places the scenarios, so extending ``end`` never moves them.
Attackers use the benchmarking range 198.18.0.0/15 (RFC 2544); the organisation's own
infrastructure uses the documentation ranges, so no real address appears anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from simulator.clock import day_start, to_epoch_us

BRUTE_FORCE_IP, BRUTE_FORCE_COUNTRY = "198.18.66.23", "BR"
SPRAY_IP, SPRAY_COUNTRY = "198.18.77.45", "NG"
KEY_MISUSE_IP, KEY_MISUSE_COUNTRY = "198.19.99.12", "SG"
SILENT_AGENT = "kc-01"


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def as_json(self) -> dict[str, str]:
        return {"start": _iso(self.start), "end": _iso(self.end)}


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Schedule:
    start: date
    days: int
    clean: Window
    brute_force: Window
    password_spray: Window
    bulk_read: Window
    unapproved_grant: datetime
    leaver_end: date
    key_misuse: Window
    key_misuse_aware: datetime
    log_gap: Window
    webhook_outage: Window
    recurring: tuple[datetime, datetime, datetime]
    recurring_window_end: datetime | None
    planned_maintenance: datetime
    phishing: tuple[datetime, datetime]

    @property
    def period_start(self) -> datetime:
        return day_start(self.start)


def _at(start: date, fraction: float, days: int, hh: int, mm: int) -> datetime:
    day = start + timedelta(days=int(fraction * days))
    while day.weekday() >= 5:  # planted office-hour activity falls on a weekday
        day += timedelta(days=1)
    return day_start(day).replace(hour=hh, minute=mm)


def _quarter_ends(first: date, last: date) -> list[datetime]:
    out = []
    for year in range(first.year, last.year + 1):
        for month in (3, 6, 9, 12):
            nxt = date(year + (month == 12), month % 12 + 1, 1)
            qe = day_start(nxt)  # window (qe - 6 months, qe]: the quarter's last instant
            if day_start(first) < qe <= day_start(last):
                out.append(qe)
    return out


def build_schedule(start: date, days: int) -> Schedule:
    """Place every scenario inside [start, start + days) for worlds of 30 days or more."""
    if days < 30:
        raise ValueError(f"days={days}: the planted scenarios need a period of at least 30 days")
    clean_start = day_start(start + timedelta(days=max(5, int(0.05 * days))))
    clean = Window(clean_start, clean_start + timedelta(days=max(3, int(0.06 * days))))
    bf = _at(start, 0.20, days, 2, 14)
    spray = _at(start, 0.33, days, 13, 5)
    bulk = _at(start, 0.45, days, 16, 5)
    misuse = _at(start, 0.38, days, 2, 40)  # early enough for its final report
    gap = _at(start, 0.72, days, 1, 0)
    outage = _at(start, (days - 12) / days, days, 9, 10)
    last = start + timedelta(days=days - 1)
    # Art. 4 recurring trio: all inside the 6 months before a quarter end within the period.
    candidates = [q for q in _quarter_ends(start, last) if (q - day_start(start)).days >= 100]
    if candidates:
        q = candidates[-1]
        offsets = (min(150, (q - day_start(start)).days - 5), 80, 12)
        trio = tuple(q - timedelta(days=o, hours=-10) for o in offsets)
        q_end: datetime | None = q
    else:
        trio = tuple(_at(start, f, days, 10, 0) for f in (0.76, 0.82, 0.88))
        q_end = None
    return Schedule(
        start=start,
        days=days,
        clean=clean,
        brute_force=Window(bf, bf + timedelta(minutes=11)),
        password_spray=Window(spray, spray + timedelta(minutes=24)),
        bulk_read=Window(bulk, bulk + timedelta(minutes=85)),
        unapproved_grant=_at(start, 0.50, days, 18, 45),
        leaver_end=(start + timedelta(days=int(0.40 * days))),
        key_misuse=Window(misuse, misuse + timedelta(minutes=50)),
        key_misuse_aware=misuse + timedelta(hours=6, minutes=50),
        log_gap=Window(gap, gap + timedelta(hours=7, minutes=30)),
        webhook_outage=Window(outage, outage + timedelta(hours=5, minutes=30)),
        recurring=trio,  # type: ignore[arg-type]
        recurring_window_end=q_end,
        planned_maintenance=_at(start, 0.27, days, 22, 0),
        phishing=(_at(start, 0.15, days, 9, 20), _at(start, 0.55, days, 11, 45)),
    )


def period_days(sched: Schedule, end_us: int) -> list[date]:
    """Every day from the first to the day of ``end`` (epoch microseconds)."""
    first = sched.start
    last_day = (
        sched.period_start + timedelta(microseconds=end_us - to_epoch_us(sched.period_start))
    ).date()
    return [first + timedelta(days=i) for i in range((last_day - first).days + 1)]
