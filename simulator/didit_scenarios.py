"""The planted scenarios as the Didit audit log (and session activity feed) shows them."""

from __future__ import annotations

import random

from simulator.audit_entries import failed_login, key_call, member_call
from simulator.clock import to_epoch_us
from simulator.didit_sessions import HOUR, MIN, Context, Rows, detail_view
from simulator.didit_traffic import console_login
from simulator.schedule import (
    BRUTE_FORCE_COUNTRY,
    BRUTE_FORCE_IP,
    KEY_MISUSE_COUNTRY,
    KEY_MISUSE_IP,
    SPRAY_COUNTRY,
    SPRAY_IP,
    Schedule,
)

BRUTE_FORCE_TARGET = "ben.keller@example.org"
BULK_READER = "hugo.brandt@example.org"
GRANT_ACTOR, GRANT_TARGET = "ben.keller@example.org", "dev.patel@example.org"
LEAVER = "gina.rossi@example.org"
MISUSED_KEY = "Backend production"
SPRAY_EMAILS = (
    "ana.ruiz@example.org",
    "ben.keller@example.org",
    "compliance.officer@example.org",
    "dev.patel@example.org",
    "eva.lind@example.org",
    "finn.berg@example.org",
    "hugo.brandt@example.org",
    "admin@example.org",
    "info@example.org",
    "it@example.org",
    "security@example.org",
    "support@example.org",
)
ATTACKER_UA = "python-requests/2.31.0"
CONSOLE_LOCKOUT_AFTER = 5  # Didit: 5 failed logins lock the account for 15 minutes


def _failed_login(rng, rows: Rows, t: int, email: str, ip: str, country: str, status: int):
    failed_login(rng, rows.audit, t, email, ip, country, status, ATTACKER_UA)


def brute_force(rng: random.Random, rows: Rows, sched: Schedule) -> None:
    t = to_epoch_us(sched.brute_force.start)
    for i in range(25):
        status = 401 if i < CONSOLE_LOCKOUT_AFTER else 429
        _failed_login(rng, rows, t, BRUTE_FORCE_TARGET, BRUTE_FORCE_IP, BRUTE_FORCE_COUNTRY, status)
        t += rng.randrange(10_000_000, 30_000_000)


def password_spray(rng: random.Random, rows: Rows, sched: Schedule) -> None:
    t = to_epoch_us(sched.password_spray.start)
    for email in SPRAY_EMAILS:
        _failed_login(rng, rows, t, email, SPRAY_IP, SPRAY_COUNTRY, 401)
        t += rng.randrange(60_000_000, 110_000_000)


def bulk_read(
    rng: random.Random, ctx: Context, rows: Rows, sched: Schedule, kyc_before: list[str]
) -> list[str]:
    """A Reader opens hundreds of verification decisions in 85 minutes; returns their ids."""
    member = ctx.org.member(BULK_READER)
    t = console_login(rng, ctx, rows, member, to_epoch_us(sched.bulk_read.start))
    stop = to_epoch_us(sched.bulk_read.end)
    viewed = kyc_before[-400:]
    step = max(1, (stop - t - MIN) // max(1, len(viewed)))
    for sid in viewed:
        detail_view(rng, ctx, rows, member, sid, t)
        t += step
    return viewed


def key_misuse(
    rng: random.Random, ctx: Context, rows: Rows, sched: Schedule, kyc_before: list[str]
) -> list[str]:
    """The production key, leaked, pulls decisions at night from a new country."""
    key = ctx.org.key(MISUSED_KEY)
    app = ctx.org.live_app

    def attacker(ts: int, path: str, status: int = 200) -> None:
        key_call(
            rng,
            rows.audit,
            ts,
            key,
            "GET",
            path,
            status,
            app,
            ip=KEY_MISUSE_IP,
            country=KEY_MISUSE_COUNTRY,
            user_agent=ATTACKER_UA,
        )

    t = to_epoch_us(sched.key_misuse.start)
    targets = kyc_before[-350:]
    for offset in range(0, len(targets), 100):
        attacker(t, f"/v3/sessions/?limit=100&offset={offset}")
        t += rng.randrange(1_000_000, 4_000_000)
    step = (to_epoch_us(sched.key_misuse.end) - t) // max(1, len(targets))
    for sid in reversed(targets):
        attacker(t, f"/v3/session/{sid}/decision/")
        t += step
    # Awareness: the Admin rotates the key; the attacker's retries the next night fail.
    admin = ctx.org.member("ben.keller@example.org")
    aware = to_epoch_us(sched.key_misuse_aware)
    t = console_login(rng, ctx, rows, admin, aware)
    path = f"/v1/organization/{ctx.org.organization_id}/application/{app[0]}/api-keys/rotate/"
    member_call(rng, rows.audit, t + 2 * MIN, admin, "POST", path, 200, app, {"name": key.name})
    t = aware + 17 * HOUR
    for _ in range(6):
        attacker(t, "/v3/sessions/?limit=100", 403)
        t += rng.randrange(5_000_000, 20_000_000)
    return targets


def unapproved_grant(rng: random.Random, ctx: Context, rows: Rows, sched: Schedule) -> None:
    """An Admin makes a Developer an Admin in the Console, after hours, with no ticket."""
    actor, target = ctx.org.member(GRANT_ACTOR), ctx.org.member(GRANT_TARGET)
    t = console_login(rng, ctx, rows, actor, to_epoch_us(sched.unapproved_grant) - 3 * MIN)
    path = f"/auth/v2/organizations/{ctx.org.organization_id}/members/{target.didit_member_id}/"
    member_call(
        rng,
        rows.audit,
        max(t, to_epoch_us(sched.unapproved_grant)),
        actor,
        "PATCH",
        path,
        200,
        None,
        {"role": "Admin"},
    )
