"""The simulated organisation: applications, Console members, API keys, staff and hosts.

Everything here is fixed per seed; the generators draw activity for these actors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from simulator.clock import new_uuid, slot_rng
from simulator.credentials import (
    CONSOLE_EMAIL,
    CONSOLE_PASSWORD,
    CONSOLE_TOTP_SECRET,
    READONLY_API_KEY,
    READONLY_API_KEY_NAME,
)

# Console roles and whether they hold the `read:audit-logs` permission (Didit docs: Owner,
# Admin and Compliance Officer can view audit logs; Developer and Reader cannot).
AUDIT_LOG_ROLES = frozenset({"Owner", "Admin", "Compliance Officer"})


@dataclass(frozen=True)
class Member:
    """A Console team member who is also an employee with a Keycloak account."""

    email: str
    name: str
    role: str
    ip: str
    country: str
    keycloak_id: str
    didit_member_id: str
    totp_secret: str | None = None
    employment_end: date | None = None


@dataclass(frozen=True)
class ApiKey:
    name: str
    secret: str
    ip: str
    country: str
    read_only: bool


@dataclass(frozen=True)
class Staff:
    """An employee with a Keycloak account but no Didit Console seat."""

    username: str
    name: str
    keycloak_id: str
    ip: str


@dataclass(frozen=True)
class Organisation:
    seed: int
    organization_id: str
    organization_name: str
    applications: dict[str, str]  # name -> uuid
    members: list[Member]
    api_keys: list[ApiKey]
    staff: list[Staff]
    realm_id: str
    realm_name: str
    role_ids: dict[str, str] = field(default_factory=dict)

    @property
    def live_app(self) -> tuple[str, str]:
        name = "Customer onboarding"
        return self.applications[name], name

    @property
    def kyb_app(self) -> tuple[str, str]:
        name = "Partner due diligence"
        return self.applications[name], name

    def member(self, email: str) -> Member:
        return next(m for m in self.members if m.email == email)

    def key(self, name: str) -> ApiKey:
        return next(k for k in self.api_keys if k.name == name)

    def public(self) -> dict:
        """What `organisation.json` publishes (ids the tap and tests need; no secrets)."""
        app_id, app_name = self.live_app
        return {
            "organization_id": self.organization_id,
            "organization_name": self.organization_name,
            "application_id": app_id,
            "application_name": app_name,
            "applications": [{"id": v, "name": k} for k, v in self.applications.items()],
            "api_key_name": READONLY_API_KEY_NAME,
            "console_email": CONSOLE_EMAIL,
            "members": [
                {
                    "email": m.email,
                    "name": m.name,
                    "role": m.role,
                    "keycloak_user_id": m.keycloak_id,
                }
                for m in self.members
            ],
            "api_keys": [{"name": k.name, "read_only": k.read_only} for k in self.api_keys],
            "keycloak_realm": self.realm_name,
        }


_MEMBERS = [
    # email, name, role, ip, country
    ("ana.ruiz@example.org", "Ana Ruiz", "Owner", "198.51.100.10", "ES"),
    ("ben.keller@example.org", "Ben Keller", "Admin", "198.51.100.11", "DE"),
    (CONSOLE_EMAIL, "Clara Novak", "Compliance Officer", "198.51.100.12", "DE"),
    ("dev.patel@example.org", "Dev Patel", "Developer", "198.51.100.13", "DE"),
    ("eva.lind@example.org", "Eva Lind", "Developer", "198.51.100.14", "SE"),
    ("finn.berg@example.org", "Finn Berg", "Reader", "198.51.100.15", "DE"),
    ("gina.rossi@example.org", "Gina Rossi", "Reader", "198.51.100.16", "IT"),
    ("hugo.brandt@example.org", "Hugo Brandt", "Reader", "198.51.100.17", "DE"),
]
_STAFF = [
    "ivan.horvat",
    "julia.meyer",
    "karl.svensson",
    "lena.fischer",
    "marco.bianchi",
    "nora.kovac",
    "oskar.wolf",
    "paula.garcia",
    "quentin.moreau",
    "rita.santos",
    "sven.olsen",
    "tara.murphy",
    "uwe.schmidt",
    "vera.novak",
    "willem.dekker",
    "xenia.popescu",
]
KEYCLOAK_ROLES = ["employee", "didit-console-reader", "didit-console-admin", "security-admin"]
# Used by the Investigator and by attackers; known-good infrastructure lives in 198.51.100.0/24.
BACKEND_IP, BACKEND_COUNTRY = "203.0.113.20", "DE"


def build_organisation(seed: int, leaver_end: date | None = None) -> Organisation:
    """The organisation for ``seed``; ids are stable for a seed, names are fixed."""
    rng = slot_rng(seed, "organisation", "ids")
    apps = {name: new_uuid(rng) for name in ("Customer onboarding", "Partner due diligence")}
    members = []
    for email, name, role, ip, country in _MEMBERS:
        members.append(
            Member(
                email=email,
                name=name,
                role=role,
                ip=ip,
                country=country,
                keycloak_id=new_uuid(rng),
                didit_member_id=new_uuid(rng),
                totp_secret=CONSOLE_TOTP_SECRET if email == CONSOLE_EMAIL else None,
                employment_end=leaver_end if email.startswith("gina.") else None,
            )
        )
    keys = [
        ApiKey(READONLY_API_KEY_NAME, READONLY_API_KEY, "203.0.113.30", "DE", True),
        ApiKey("Backend production", "sim-backend-key-0002", BACKEND_IP, BACKEND_COUNTRY, False),
        ApiKey("Webhook reconciler", "sim-reconciler-key-0003", "203.0.113.21", "DE", True),
        ApiKey("CI smoke tests", "sim-ci-key-0004", "192.0.2.40", "IE", False),
    ]
    staff = [
        Staff(u, u.replace(".", " ").title(), new_uuid(rng), f"198.51.100.{40 + i}")
        for i, u in enumerate(_STAFF)
    ]
    realm_id = new_uuid(rng)
    role_ids = {r: new_uuid(rng) for r in KEYCLOAK_ROLES}
    return Organisation(
        seed=seed,
        organization_id=new_uuid(rng),
        organization_name="Example Marketplace GmbH",
        applications=apps,
        members=members,
        api_keys=keys,
        staff=staff,
        realm_id=realm_id,
        realm_name="example-org",
        role_ids=role_ids,
    )


def console_password(member: Member) -> str:
    """Every simulated member shares the documented demo password."""
    del member
    return CONSOLE_PASSWORD
