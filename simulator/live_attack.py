"""A Console brute force happening now, for the live monitoring demo and its benchmark.

`POST /_sim/attack` on a running simulator (or `didit-simulator attack`) appends to the audit
log `failures` failed Console log-ins for one account from one address, 2 s apart, ending now,
then (by default) a successful log-in from the same address: what the planted `brute_force`
scenario does, at the wall-clock time instead of in the generated past."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from simulator.audit_entries import LOGIN_PATH, audit_row, failed_login
from simulator.clock import iso_micro, to_epoch_us
from simulator.didit_scenarios import ATTACKER_UA, BRUTE_FORCE_TARGET, CONSOLE_LOCKOUT_AFTER

ATTACK_IP, ATTACK_COUNTRY = "198.18.66.77", "BR"  # a benchmark-range (RFC 2544) address
STEP_US = 2_000_000


class AttackError(ValueError):
    """A request for an attack the simulator cannot make."""


def brute_force_rows(
    target: str, failures: int, success: bool, now: datetime | None = None
) -> list[tuple[str, str, str]]:
    """The audit-log rows (uuid, ts, body) of the attack; the last one is at `now`."""
    if not 1 <= failures <= 500:
        raise AttackError("failures must be between 1 and 500")
    if "@" not in target:
        raise AttackError("target must be an e-mail address")
    rng = random.Random()  # fresh ids each call (the generated world's ids stay untouched)
    end_us = to_epoch_us(now or datetime.now(UTC))
    count = failures + (1 if success else 0)
    t = end_us - (count - 1) * STEP_US
    rows: list = []
    for i in range(failures):
        status = 401 if i < CONSOLE_LOCKOUT_AFTER else 429
        failed_login(rng, rows, t, target, ATTACK_IP, ATTACK_COUNTRY, status, ATTACKER_UA)
        t += STEP_US
    if success:
        body = {"email": target, "password": "x"}
        rows.append(
            audit_row(
                rng,
                t,
                "USER",
                target,
                "POST",
                LOGIN_PATH,
                200,
                ATTACK_IP,
                ATTACK_COUNTRY,
                ATTACKER_UA,
                None,
                body,
            )
        )
    return rows


def attack(store, request: dict) -> dict:
    """Append the attack `request` asks for to the served store; what was written."""
    target = str(request.get("target") or BRUTE_FORCE_TARGET)
    failures = int(request.get("failures", 8))
    rows = brute_force_rows(target, failures, bool(request.get("success", True)))
    store.append_audit(rows)
    return {
        "kind": "brute_force",
        "target": target,
        "source_ip": ATTACK_IP,
        "entries": len(rows),
        "first_timestamp": rows[0][1],
        "last_timestamp": rows[-1][1],
        "generated_at": iso_micro(to_epoch_us(datetime.now(UTC))),
    }
