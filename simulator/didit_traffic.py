"""Background traffic in the Didit audit log: service API keys and Console members.

Volumes follow a diurnal curve and a weekday factor. The noise is kept below every
detection threshold the ground truth relies on (see ``NOISE_LIMITS``), so only the planted
scenarios produce findings.
"""

from __future__ import annotations

import bisect
import random
from datetime import date
from itertools import accumulate

from simulator.audit_entries import (
    BROWSER_UA,
    LOGIN_PATH,
    audit_row,
    failed_login,
    key_call,
    member_call,
)
from simulator.clock import day_start, to_epoch_us
from simulator.didit_sessions import DAY, HOUR, MIN, Context, Rows, detail_view

NOISE_LIMITS = {
    "failed_logins_per_user_per_day": 1,
    "failed_login_followed_by_success_from": "the user's usual IP",
    "member_activity_hours_utc": "07:00-19:00, Monday to Friday",
    "service_keys": "fixed IPs and countries, around the clock",
}

# Share of each UTC hour in API traffic (EU customers; quiet at night).
_HOURLY = (1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 7, 7, 8, 8, 7, 6, 5, 4, 3, 2, 2, 1)
_HOURLY_CUM = list(accumulate(_HOURLY))

# (key name, method, path template, weight); {sid}/{dest}/{day} are filled per call.
_API_CALLS = (
    ("Backend production", "GET", "/v3/session/{sid}/decision/", 40),
    ("Backend production", "GET", "/v3/sessions/?status=In%20Review&limit=50", 10),
    ("Backend production", "GET", "/v3/users/{vendor}/", 8),
    ("Backend production", "PATCH", "/v3/users/{vendor}/update-status/", 1),
    ("Backend production", "GET", "/v3/billing/balance/", 2),
    ("Webhook reconciler", "GET", "/v3/webhook/destinations/{dest}/deliveries/?date_from={day}", 6),
    ("Webhook reconciler", "GET", "/v3/webhook/destinations/", 2),
    ("CI smoke tests", "GET", "/v3/workflows/", 1),
)
_API_CUM = list(accumulate(w for *_, w in _API_CALLS))
# Status codes of background API calls and their cumulative per-mille shares.
_STATUS = ((200, 972), (404, 988), (400, 994), (429, 997), (500, 1000))

_CONSOLE_PAGES = (
    "/v1/organization/{org}/application/{app}/sessions/",
    "/v1/organization/{org}/application/{app}/analytics/overview/",
    "/v1/organization/{org}/application/{app}/workflows/",
    "/v1/organization/{org}/application/{app}/cases/",
    "/v1/organization/{org}/application/{app}/users/",
    "/v1/organization/{org}/members/",
)


def _hour_offset(rng: random.Random) -> int:
    hour = bisect.bisect_right(_HOURLY_CUM, rng.random() * _HOURLY_CUM[-1])
    return hour * HOUR + int(rng.random() * HOUR)


def session_start_times(rng: random.Random, d: date, count: int) -> list[int]:
    base = to_epoch_us(day_start(d))
    return sorted(base + _hour_offset(rng) for _ in range(count))


def api_noise(
    rng: random.Random, ctx: Context, rows: Rows, d: date, count: int, session_ids: list[str]
) -> None:
    """``count`` background API calls by the service keys on day ``d``."""
    org = ctx.org
    base = to_epoch_us(day_start(d))
    keys = {k.name: k for k in org.api_keys}
    app = org.live_app
    dests = [u for u, _ in ctx.destinations]
    total = _API_CUM[-1]
    sids = session_ids or ["00000000-0000-4000-8000-000000000000"]
    day_text = d.isoformat()
    pool = ctx.customer_pool
    audit = rows.audit
    for _ in range(count):
        name, method, template, _w = _API_CALLS[bisect.bisect_right(_API_CUM, rng.random() * total)]
        key = keys[name]
        if "{sid}" in template:
            path = template.replace("{sid}", sids[int(rng.random() * len(sids))])
        elif "{vendor}" in template:
            path = template.replace("{vendor}", f"cust-{int(rng.random() * pool):06d}")
        elif "{dest}" in template:
            path = template.replace("{dest}", dests[int(rng.random() * len(dests))]).replace(
                "{day}", day_text
            )
        else:
            path = template
        roll = rng.random() * 1000
        status = 200 if roll < 972 else next(code for code, upto in _STATUS if roll < upto)
        ts = base + _hour_offset(rng)
        key_call(rng, audit, ts, key, method, path, status, app)


def nightly_reporting_sync(rng: random.Random, ctx: Context, rows: Rows, d: date) -> None:
    """The read-only reporting key's nightly pull (the pipeline's own past runs)."""
    key = ctx.org.key("NIS2 reporting (read-only)")
    t = to_epoch_us(day_start(d)) + 2 * HOUR + rng.randrange(0, 10 * MIN)
    prev = d.toordinal() - 3
    since = date.fromordinal(prev).isoformat()
    for path in (
        f"/v3/sessions/?session_kind=user&date_from={since}&limit=100",
        f"/v3/sessions/?session_kind=business&date_from={since}&limit=100",
        "/v3/workflows/?limit=100",
        "/v3/users/?limit=100",
        "/v3/businesses/?limit=100",
        "/v3/webhook/destinations/",
        "/v3/billing/balance/",
        "/v3/lists/?limit=100",
    ):
        t += rng.randrange(200_000, 2_000_000)
        key_call(rng, rows.audit, t, key, "GET", path, 200, ctx.org.live_app)


def console_login(
    rng: random.Random,
    ctx: Context,
    rows: Rows,
    member,
    t: int,
    ip: str | None = None,
    country: str | None = None,
) -> int:
    """Programmatic login (+ TOTP step when enrolled); returns the time after it."""
    ip, country = ip or member.ip, country or member.country
    steps = [(LOGIN_PATH, {"email": member.email, "password": "x"})]
    if member.totp_secret:
        steps.append(("/auth/v2/2fa/verify/", {"temp_token": "x", "otp_token": "x"}))
    for n, (path, body) in enumerate(steps):
        t += rng.randrange(5_000_000, 40_000_000) if n else 0
        rows.audit.append(
            audit_row(
                rng, t, "USER", member.email, "POST", path, 200, ip, country, BROWSER_UA, None, body
            )
        )
    return t + rng.randrange(1_000_000, 5_000_000)


def console_day(
    rng: random.Random,
    ctx: Context,
    rows: Rows,
    d: date,
    member,
    todays_kyc: list[tuple[int, str]],
    pages: int,
) -> None:
    """One member's working day in the Console: log in, browse, open a few sessions."""
    org = ctx.org
    app = org.live_app
    t = to_epoch_us(day_start(d)) + 7 * HOUR + rng.randrange(0, 3 * HOUR)
    if rng.random() < 0.03:  # a typo, then success from the usual IP (below every threshold)
        failed_login(rng, rows.audit, t, member.email, member.ip, member.country, 401, BROWSER_UA)
        t += rng.randrange(20_000_000, 90_000_000)
    t = console_login(rng, ctx, rows, member, t)
    limit = to_epoch_us(day_start(d)) + 19 * HOUR
    for _ in range(pages):
        t += rng.randrange(MIN, 40 * MIN)
        if t >= limit:
            break
        template = _CONSOLE_PAGES[int(rng.random() * len(_CONSOLE_PAGES))]
        path = template.format(org=org.organization_id, app=app[0])
        member_call(rng, rows.audit, t, member, "GET", path, 200, app)
        opened = [sid for t0, sid in todays_kyc if t0 < t]
        if opened and rng.random() < 0.15:
            sid = opened[int(rng.random() * len(opened))]
            detail_view(rng, ctx, rows, member, sid, t + rng.randrange(1_000_000, 30_000_000))
    if member.role in ("Owner", "Admin", "Compliance Officer") and rng.random() < 0.3:
        t += rng.randrange(MIN, 10 * MIN)
        if t < limit:
            path = f"/v3/audit/{org.organization_id}/audit-logs/?limit=50"
            member_call(rng, rows.audit, t, member, "GET", path, 200)


__all__ = [
    "DAY",
    "NOISE_LIMITS",
    "api_noise",
    "console_day",
    "console_login",
    "nightly_reporting_sync",
    "session_start_times",
]
