"""The organisation's Keycloak realm: users, roles, login events and admin events.

Rows use Keycloak's own column names and encodings (event times in epoch milliseconds,
``details_json`` as Keycloak serialises it). Tables are written as JSON lines beside the
DDL, and :mod:`simulator.keycloak_db` loads them into PostgreSQL.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import orjson

from simulator.clock import day_start, from_epoch_ms, new_uuid, slot_rng, to_epoch_ms
from simulator.didit_scenarios import BRUTE_FORCE_TARGET, GRANT_ACTOR, GRANT_TARGET
from simulator.organisation import KEYCLOAK_ROLES, Organisation
from simulator.schedule import BRUTE_FORCE_IP, SPRAY_IP, Schedule

TABLES = (
    "event_entity",
    "admin_event_entity",
    "user_entity",
    "user_attribute",
    "keycloak_role",
    "user_role_mapping",
    "credential",
)
CLIENTS = ("backoffice-portal", "account-console")
ADMIN_CLIENT = "security-admin-console"
SPRAY_USERS = 14  # existing accounts hit once each by the spray
SPRAY_UNKNOWN = ("admin", "test", "administrator", "root")
SPRAY_SUCCESS = "karl.svensson"
KEYCLOAK_LOCKOUT_AFTER = 5  # realm brute-force detection: lock after 5 failures
MIN_MS, HOUR_MS, DAY_MS = 60_000, 3_600_000, 86_400_000
PROPER_LEAVER = "willem.dekker"
APPROVED_GRANT_FRACS = (0.12, 0.38, 0.66, 0.84)  # of the planned period, 10:00 UTC
REVOKED_GRANT = 0  # which approved grant was temporary
# MFA coverage (M10): second factors as Keycloak stores them in `credential`.
SERVICE_CLIENT = "hr-sync"  # the HR system pushes leaver dates with client credentials
SERVICE_ACCOUNT = f"service-account-{SERVICE_CLIENT}"  # Keycloak's name for its account
MFA_MISSING_ADMIN = "ana.ruiz@example.org"  # privileged, password only: the planted finding
LATE_ENROLLER = "julia.meyer"  # enrols OTP mid-period: her earlier log-ins had no second factor
NO_SECOND_FACTOR = ("oskar.wolf", "tara.murphy")  # standard staff still on password only
LATE_ENROLMENT_FRAC = 0.5
# Sets up an authenticator app in the period, then removes it on a Saturday between two
# log-ins to the account console (Keycloak: REMOVE_CREDENTIAL and REMOVE_TOTP, the row deleted).
FACTOR_REMOVER = "xenia.popescu"
FACTOR_REMOVER_ENROLMENT_FRAC = 0.25
FACTOR_REMOVAL_FRAC = 0.6
ACCOUNT_CLIENT = CLIENTS[1]  # Keycloak's account console: where people manage their factors
# Stands in for hashes and OTP seeds in secret_data: must never reach the warehouse or a log.
SECRET_MARKER = "SIMULATED-CREDENTIAL-SECRET"  # noqa: S105 - a marker, not a secret


@dataclass(frozen=True)
class RoleChange:
    """A realm-role mapping granted (CREATE) or revoked (DELETE) at ``at_ms``."""

    user_id: str
    role: str
    at_ms: int
    op: str
    ticket: str | None


def approved_grant_ms(sched: Schedule, n: int) -> int:
    """When approved grant ``n`` (to ``users[8 + 3 n]``) was made."""
    frac = APPROVED_GRANT_FRACS[n]
    return to_epoch_ms(sched.period_start) + int(frac * sched.days) * DAY_MS + 10 * HOUR_MS


def planned_revocation(sched: Schedule, users: list[KcUser]) -> RoleChange:
    """The first approved Console grant was temporary: access no longer needed, so the Owner
    removes it (ticketed) in the period's middle. The mapping then vanishes from Keycloak's
    ``user_role_mapping``, as Keycloak deletes it; only the admin event remembers it."""
    return RoleChange(
        users[8 + 3 * REVOKED_GRANT].id,
        "didit-console-reader",
        to_epoch_ms(sched.period_start) + int(0.45 * sched.days) * DAY_MS + 11 * HOUR_MS,
        "DELETE",
        "ACC-1057",
    )


@dataclass
class KcUser:
    id: str
    username: str
    email: str
    first: str
    last: str
    ip: str
    roles: list[str]
    created_ms: int
    end: date | None = None


@dataclass
class KeycloakRows:
    tables: dict[str, list[dict]] = field(default_factory=lambda: {t: [] for t in TABLES})

    def event(
        self,
        rng,
        realm,
        ts_ms,
        etype,
        user: KcUser | None,
        ip,
        client,
        error=None,
        username=None,
        details: dict | None = None,
    ) -> None:
        details = details or {
            "auth_method": "openid-connect",
            "auth_type": "code",
            "redirect_uri": f"https://{client}.example.org/*",
            "username": username or (user.username if user else None),
        }
        if etype == "LOGIN":
            details["code_id"] = new_uuid(rng)
        self.tables["event_entity"].append(
            {
                "id": new_uuid(rng),
                "client_id": client,
                "details_json": orjson.dumps(details).decode(),
                "error": error,
                "ip_address": ip,
                "realm_id": realm,
                "session_id": new_uuid(rng) if etype == "LOGIN" else None,
                "event_time": ts_ms,
                "type": etype,
                "user_id": user.id if user else None,
                "details_json_long_value": None,
            }
        )


def build_users(org: Organisation, sched: Schedule) -> list[KcUser]:
    """Members and staff as Keycloak accounts; roles follow the Console role or job."""
    start_ms = to_epoch_ms(sched.period_start)
    out = []
    for m in org.members:
        first, last = m.name.split(" ", 1)
        roles = [
            "employee",
            "didit-console-admin" if m.role in ("Owner", "Admin") else "didit-console-reader",
        ]
        if m.role in ("Owner", "Admin"):
            roles.append("security-admin")
        out.append(
            KcUser(
                m.keycloak_id,
                m.email.split("@")[0],
                m.email,
                first,
                last,
                m.ip,
                roles,
                start_ms - 400 * DAY_MS,
                m.employment_end,
            )
        )
    for i, s in enumerate(org.staff):
        first, last = s.name.split(" ", 1)
        end = (
            sched.start + timedelta(days=int(0.30 * sched.days))
            if (s.username == PROPER_LEAVER)
            else None
        )
        out.append(
            KcUser(
                s.keycloak_id,
                s.username,
                f"{s.username}@example.org",
                first,
                last,
                s.ip,
                ["employee"],
                start_ms - (300 - 10 * i) * DAY_MS,
                end,
            )
        )
    return out


def second_factor(user: KcUser) -> str | None:
    """The second factor an account enrols: webauthn for administrators, otp for staff."""
    if user.email == MFA_MISSING_ADMIN or user.username in NO_SECOND_FACTOR:
        return None
    return "webauthn" if "security-admin" in user.roles else "otp"


def enrolment_ms(sched: Schedule, user: KcUser) -> int:
    """When the account's second factor was enrolled (the late enroller: mid-period)."""
    if user.username in (LATE_ENROLLER, FACTOR_REMOVER):
        frac = (
            LATE_ENROLMENT_FRAC if user.username == LATE_ENROLLER else FACTOR_REMOVER_ENROLMENT_FRAC
        )
        return to_epoch_ms(sched.period_start) + int(frac * sched.days) * DAY_MS + 9 * HOUR_MS
    return user.created_ms + 2 * DAY_MS


def factor_removal_logins_ms(sched: Schedule) -> tuple[int, int, int]:
    """The factor remover's Saturday: log-in with her app, its removal, log-in without it."""
    day = sched.start + timedelta(days=int(FACTOR_REMOVAL_FRAC * sched.days))
    day += timedelta(days=(5 - day.weekday()) % 7)
    first = to_epoch_ms(day_start(day)) + 10 * HOUR_MS + 12 * MIN_MS
    return first, first + 4 * MIN_MS, first + 25 * MIN_MS


def service_account(org: Organisation, sched: Schedule) -> KcUser:
    """The HR integration's service account (client credentials: it cannot use a second factor)."""
    rng = slot_rng(org.seed, "keycloak", SERVICE_ACCOUNT)
    return KcUser(
        new_uuid(rng),
        SERVICE_ACCOUNT,
        "",
        "",
        "",
        "198.51.100.90",
        [],
        to_epoch_ms(sched.period_start) - 200 * DAY_MS,
    )


def _credential_rows(org: Organisation, sched: Schedule, users: list[KcUser]) -> list[dict]:
    """A password for every person, plus the enrolled second factor (no secret is real)."""
    rng = slot_rng(org.seed, "keycloak", "credentials")
    rows = []
    for u in users:
        factors = [("password", u.created_ms, None)]
        kind = second_factor(u)
        if kind:
            label = "Security key" if kind == "webauthn" else "Authenticator app"
            factors.append((kind, enrolment_ms(sched, u), label))
        for n, (kind, at_ms, label) in enumerate(factors):
            rows.append(
                {
                    "id": new_uuid(rng),
                    "salt": None,
                    "type": kind,
                    "user_id": u.id,
                    "created_date": at_ms,
                    "user_label": label,
                    "secret_data": orjson.dumps({"value": f"{SECRET_MARKER}-{kind}"}).decode(),
                    "credential_data": orjson.dumps({"algorithm": "simulated"}).decode(),
                    "priority": 10 * (n + 1),
                }
            )
    return rows


def _factor_events(
    kc: KeycloakRows,
    org: Organisation,
    sched: Schedule,
    days: list[date],
    users: list[KcUser],
    credentials: list[dict],
) -> None:
    """What Keycloak logs when second factors change: UPDATE_CREDENTIAL (plus UPDATE_TOTP for
    an OTP) at each enrolment made in the period, and the factor remover's Saturday: a log-in
    with her app, REMOVE_CREDENTIAL (plus REMOVE_TOTP) naming it, a log-in without it."""
    rng = slot_rng(org.seed, "keycloak", "factor_events")
    in_period = set(days)
    by_id = {u.id: u for u in users}
    for c in credentials:
        u = by_id[c["user_id"]]
        when = c["created_date"]
        if c["type"] == "password" or from_epoch_ms(when).date() not in in_period:
            continue
        details = {
            "custom_required_action": "CONFIGURE_TOTP"
            if c["type"] == "otp"
            else "webauthn-register",
            "credential_type": c["type"],
            "username": u.username,
        }
        for etype in (
            ("UPDATE_CREDENTIAL", "UPDATE_TOTP") if c["type"] == "otp" else ("UPDATE_CREDENTIAL",)
        ):
            kc.event(
                rng,
                org.realm_id,
                when,
                etype,
                u,
                u.ip,
                ACCOUNT_CLIENT,
                details=dict(details),
            )
    first, removal, second = factor_removal_logins_ms(sched)
    if from_epoch_ms(first).date() not in in_period:
        return
    u = next(u for u in users if u.username == FACTOR_REMOVER)
    app = next(c for c in credentials if c["user_id"] == u.id and c["type"] == "otp")
    client = ACCOUNT_CLIENT
    kc.event(rng, org.realm_id, first, "LOGIN", u, u.ip, client)
    kc.event(rng, org.realm_id, first + 500, "CODE_TO_TOKEN", u, u.ip, client)
    details = {
        "credential_type": "otp",
        "credential_id": app["id"],
        "credential_user_label": app["user_label"],
        "username": u.username,
    }
    for etype in ("REMOVE_CREDENTIAL", "REMOVE_TOTP"):
        kc.event(rng, org.realm_id, removal, etype, u, u.ip, client, details=dict(details))
    kc.event(rng, org.realm_id, second, "LOGIN", u, u.ip, client)
    kc.event(rng, org.realm_id, second + 500, "CODE_TO_TOKEN", u, u.ip, client)


def _static_tables(
    kc: KeycloakRows,
    org: Organisation,
    sched: Schedule,
    users: list[KcUser],
    changes: list[RoleChange],
    leaver_disabled: bool,
) -> None:
    realm = org.realm_id
    for name in KEYCLOAK_ROLES:
        kc.tables["keycloak_role"].append(
            {
                "id": org.role_ids[name],
                "client_realm_constraint": realm,
                "client_role": False,
                "description": f"{name} (realm role)",
                "name": name,
                "realm_id": realm,
                "client": None,
                "realm": realm,
            }
        )
    rng = slot_rng(org.seed, "keycloak", "attributes")
    for u in users:
        enabled = not (u.username == PROPER_LEAVER and leaver_disabled)
        kc.tables["user_entity"].append(
            {
                "id": u.id,
                "email": u.email,
                "email_constraint": u.email,
                "email_verified": True,
                "enabled": enabled,
                "federation_link": None,
                "first_name": u.first,
                "last_name": u.last,
                "realm_id": realm,
                "username": u.username,
                "created_timestamp": u.created_ms,
                "service_account_client_link": None,
                "not_before": 0,
            }
        )
        attrs = {"department": "Compliance" if "compliance" in u.email else "Operations"}
        if u.end:
            attrs["employment_end_date"] = u.end.isoformat()
        for name, value in attrs.items():
            kc.tables["user_attribute"].append(
                {
                    "name": name,
                    "value": value,
                    "user_id": u.id,
                    "id": new_uuid(rng),
                    "long_value_hash": None,
                    "long_value_hash_lower_case": None,
                    "long_value": None,
                }
            )
        roles = list(u.roles)
        for c in sorted((c for c in changes if c.user_id == u.id), key=lambda c: c.at_ms):
            if c.op == "CREATE" and c.role not in roles:
                roles.append(c.role)
            elif c.op == "DELETE" and c.role in roles:
                roles.remove(c.role)
        for r in roles:
            kc.tables["user_role_mapping"].append({"role_id": org.role_ids[r], "user_id": u.id})
    sa = service_account(org, sched)
    kc.tables["user_entity"].append(
        {
            "id": sa.id,
            "email": None,
            "email_constraint": sa.id,
            "email_verified": False,
            "enabled": True,
            "federation_link": None,
            "first_name": None,
            "last_name": None,
            "realm_id": realm,
            "username": sa.username,
            "created_timestamp": sa.created_ms,
            "service_account_client_link": new_uuid(slot_rng(org.seed, "keycloak", SERVICE_CLIENT)),
            "not_before": 0,
        }
    )


def _admin_event(
    kc: KeycloakRows,
    rng,
    org: Organisation,
    ts_ms: int,
    actor: KcUser,
    op: str,
    rtype: str,
    path: str,
    representation,
    details: dict | None,
) -> None:
    kc.tables["admin_event_entity"].append(
        {
            "id": new_uuid(rng),
            "admin_event_time": ts_ms,
            "realm_id": org.realm_id,
            "operation_type": op,
            "auth_realm_id": org.realm_id,
            "auth_client_id": new_uuid(slot_rng(org.seed, "keycloak", ADMIN_CLIENT)),
            "auth_user_id": actor.id,
            "ip_address": actor.ip,
            "resource_path": path,
            "representation": orjson.dumps(representation).decode() if representation else None,
            "error": None,
            "resource_type": rtype,
            "details_json": orjson.dumps(details).decode() if details else None,
        }
    )


def _role_rep(org: Organisation, name: str) -> list[dict]:
    return [
        {
            "id": org.role_ids[name],
            "name": name,
            "composite": False,
            "clientRole": False,
            "containerId": org.realm_id,
        }
    ]


def _day_events(
    kc: KeycloakRows, rng: random.Random, org: Organisation, d: date, users: list[KcUser]
) -> None:
    base = to_epoch_ms(day_start(d))
    for u in users:
        left = u.end is not None and d > u.end
        if left and (u.username == PROPER_LEAVER or d.weekday() != 0):
            continue  # the proper leaver is disabled; the other still logs in on Mondays
        if not left and d.weekday() >= 5:
            continue
        t = base + 7 * HOUR_MS + rng.randrange(0, 3 * HOUR_MS)
        client = CLIENTS[0] if rng.random() < 0.8 else CLIENTS[1]
        if rng.random() < 0.03:
            kc.event(
                rng, org.realm_id, t, "LOGIN_ERROR", u, u.ip, client, "invalid_user_credentials"
            )
            t += rng.randrange(20_000, 90_000)
        kc.event(rng, org.realm_id, t, "LOGIN", u, u.ip, client)
        kc.event(rng, org.realm_id, t + rng.randrange(200, 900), "CODE_TO_TOKEN", u, u.ip, client)
        for _ in range(rng.randrange(0, 3)):
            t += rng.randrange(HOUR_MS, 3 * HOUR_MS)
            kc.event(rng, org.realm_id, t, "REFRESH_TOKEN", u, u.ip, client)
        if rng.random() < 0.5:
            kc.event(
                rng,
                org.realm_id,
                t + rng.randrange(HOUR_MS, 4 * HOUR_MS),
                "LOGOUT",
                u,
                u.ip,
                client,
            )


def _service_logins(kc: KeycloakRows, org: Organisation, sched: Schedule, d: date) -> None:
    """The HR sync signs in with client credentials every night (Keycloak: CLIENT_LOGIN)."""
    rng = slot_rng(org.seed, d.isoformat(), "keycloak_service")
    sa = service_account(org, sched)
    t = to_epoch_ms(day_start(d)) + 2 * HOUR_MS + rng.randrange(0, 20 * MIN_MS)
    details = {
        "grant_type": "client_credentials",
        "client_auth_method": "client-secret",
        "username": sa.username,
    }
    kc.event(rng, org.realm_id, t, "CLIENT_LOGIN", sa, sa.ip, SERVICE_CLIENT, details=details)


def _brute_force(kc: KeycloakRows, rng, org: Organisation, sched: Schedule, users) -> None:
    target = next(u for u in users if u.email == BRUTE_FORCE_TARGET)
    t = to_epoch_ms(sched.brute_force.start) + 20_000
    for i in range(20):
        error = (
            "invalid_user_credentials"
            if i < KEYCLOAK_LOCKOUT_AFTER
            else ("user_temporarily_disabled")
        )
        kc.event(rng, org.realm_id, t, "LOGIN_ERROR", target, BRUTE_FORCE_IP, CLIENTS[0], error)
        if i == KEYCLOAK_LOCKOUT_AFTER - 1:
            kc.event(
                rng,
                org.realm_id,
                t + 5,
                "USER_DISABLED_BY_TEMPORARY_LOCKOUT",
                target,
                BRUTE_FORCE_IP,
                CLIENTS[0],
            )
        t += rng.randrange(15_000, 30_000)


def _spray(kc: KeycloakRows, rng, org: Organisation, sched: Schedule, users) -> None:
    t = to_epoch_ms(sched.password_spray.start) + 40_000
    staff = [u for u in users if u.end is None][:SPRAY_USERS]
    for u in staff:
        kc.event(
            rng, org.realm_id, t, "LOGIN_ERROR", u, SPRAY_IP, CLIENTS[0], "invalid_user_credentials"
        )
        t += rng.randrange(50_000, 80_000)
    for name in SPRAY_UNKNOWN:
        kc.event(
            rng,
            org.realm_id,
            t,
            "LOGIN_ERROR",
            None,
            SPRAY_IP,
            CLIENTS[0],
            "user_not_found",
            username=name,
        )
        t += rng.randrange(50_000, 80_000)
    victim = next(u for u in users if u.username == SPRAY_SUCCESS)
    for _ in range(2):
        kc.event(
            rng,
            org.realm_id,
            t,
            "LOGIN_ERROR",
            victim,
            SPRAY_IP,
            CLIENTS[0],
            "invalid_user_credentials",
        )
        t += rng.randrange(20_000, 40_000)
    kc.event(rng, org.realm_id, t, "LOGIN", victim, SPRAY_IP, CLIENTS[0])
    kc.event(rng, org.realm_id, t + 400, "CODE_TO_TOKEN", victim, SPRAY_IP, CLIENTS[0])


def _admin_history(kc: KeycloakRows, org: Organisation, sched: Schedule, users) -> list[RoleChange]:
    """Approved grants (with a ticket), the proper leaver, the unapproved grant and the
    revocation of a temporary grant.

    Returns the role changes so the role mapping reflects those before `end`.
    """
    grants = []
    rng = slot_rng(org.seed, "keycloak", "admin")
    admin = next(u for u in users if u.email == GRANT_ACTOR)
    owner = next(u for u in users if u.email.startswith("ana."))
    for n in range(len(APPROVED_GRANT_FRACS)):
        u = users[8 + n * 3]
        t = approved_grant_ms(sched, n)
        _admin_event(
            kc,
            rng,
            org,
            t,
            owner,
            "CREATE",
            "REALM_ROLE_MAPPING",
            f"users/{u.id}/role-mappings/realm",
            _role_rep(org, "didit-console-reader"),
            {"approval_ticket_id": f"ACC-{1040 + n}"},
        )
        grants.append(RoleChange(u.id, "didit-console-reader", t, "CREATE", f"ACC-{1040 + n}"))
    leaver = next(u for u in users if u.username == PROPER_LEAVER)
    t = to_epoch_ms(day_start(leaver.end)) + 16 * HOUR_MS
    _admin_event(
        kc,
        rng,
        org,
        t,
        admin,
        "UPDATE",
        "USER",
        f"users/{leaver.id}",
        {"id": leaver.id, "username": leaver.username, "enabled": False},
        {"approval_ticket_id": "HR-2291"},
    )
    target = next(u for u in users if u.email == GRANT_TARGET)
    t = to_epoch_ms(sched.unapproved_grant) + 30_000
    _admin_event(
        kc,
        rng,
        org,
        t,
        admin,
        "CREATE",
        "REALM_ROLE_MAPPING",
        f"users/{target.id}/role-mappings/realm",
        _role_rep(org, "didit-console-admin"),
        None,
    )
    grants.append(RoleChange(target.id, "didit-console-admin", t, "CREATE", None))
    revoked = planned_revocation(sched, users)  # drawn last: earlier ids stay as they were
    _admin_event(
        kc,
        rng,
        org,
        revoked.at_ms,
        owner,
        "DELETE",
        "REALM_ROLE_MAPPING",
        f"users/{revoked.user_id}/role-mappings/realm",
        _role_rep(org, revoked.role),
        {"approval_ticket_id": revoked.ticket},
    )
    return [*grants, revoked]


def generate_keycloak(
    out_dir: Path, org: Organisation, sched: Schedule, days: list[date], end: datetime
) -> dict[str, int]:
    """Write ``schema.sql`` and one JSON-lines file per table; return row counts."""
    end_ms = to_epoch_ms(end)
    users = build_users(org, sched)
    kc = KeycloakRows()
    for d in days:
        _day_events(kc, slot_rng(org.seed, d.isoformat(), "keycloak"), org, d, users)
        _service_logins(kc, org, sched, d)
    _brute_force(kc, slot_rng(org.seed, "scenario", "kc_brute_force"), org, sched, users)
    _spray(kc, slot_rng(org.seed, "scenario", "kc_spray"), org, sched, users)
    changes = _admin_history(kc, org, sched, users)
    credentials = _credential_rows(org, sched, users)
    _factor_events(kc, org, sched, days, users, credentials)
    kc.tables["event_entity"] = [e for e in kc.tables["event_entity"] if e["event_time"] <= end_ms]
    kc.tables["admin_event_entity"] = [
        e for e in kc.tables["admin_event_entity"] if e["admin_event_time"] <= end_ms
    ]
    leaver = next(u for u in users if u.username == PROPER_LEAVER)
    disabled = to_epoch_ms(day_start(leaver.end)) + 16 * HOUR_MS <= end_ms
    _static_tables(kc, org, sched, users, [c for c in changes if c.at_ms <= end_ms], disabled)
    # Keycloak deletes a removed credential's row: only the events keep its removal
    _, removal_ms, _ = factor_removal_logins_ms(sched)
    remover = next(u for u in users if u.username == FACTOR_REMOVER)
    kc.tables["credential"] = [
        c
        for c in credentials
        if c["created_date"] <= end_ms
        and not (c["user_id"] == remover.id and c["type"] == "otp" and removal_ms <= end_ms)
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "schema.sql").write_text(
        (Path(__file__).parent / "keycloak_schema.sql").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    counts = {}
    for table, rows in kc.tables.items():
        key = "event_time" if table == "event_entity" else "admin_event_time"
        if table in ("event_entity", "admin_event_entity"):
            rows.sort(key=lambda r, k=key: (r[k], r["id"]))
        with (out_dir / f"{table}.jsonl").open("wb") as fh:
            for r in rows:
                fh.write(orjson.dumps(r) + b"\n")
        counts[f"keycloak.{table}"] = len(rows)
    return counts
