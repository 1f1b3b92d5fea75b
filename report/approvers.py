"""Who approved an exception, in a way an auditor can check (decision in report/README.md,
"Approvers").

The exceptions register names the approving ROLE (seed policy_exceptions: "approved_by is a
role, never a person's name"). A role is not personal data and is what an auditor checks
against the organisation's delegation of authority, so both packs show a declared role in
clear. Any other value (a name or an e-mail that slipped into the register) is treated as a
person: the public pack shows its pseudonym (the marts' HMAC formula under
NIS2_PSEUDONYM_KEY) and the compliance officer's internal pack (`--internal-names`) shows the
value, which is the auditor's re-identification path.
"""

from __future__ import annotations

import os

ROLES_ENV = "NIS2_APPROVER_ROLES"  # extra roles, separated by ';'
#: The roles that may approve an exception, as the register writes them (case does not
#: matter). Extend with NIS2_APPROVER_ROLES rather than writing a name into the register.
APPROVER_ROLES: tuple[str, ...] = (
    "Management body",
    "CEO",
    "CISO",
    "CIO",
    "CTO",
    "Head of IT operations",
    "Compliance officer",
    "Data protection officer",
)
ROLE_COLUMN = "approved_by"


def declared_roles() -> frozenset[str]:
    extra = os.environ.get(ROLES_ENV, "")
    roles = [*APPROVER_ROLES, *extra.split(";")]
    return frozenset(r.strip().casefold() for r in roles if r.strip())


def is_declared_role(value: object) -> bool:
    return isinstance(value, str) and value.strip().casefold() in declared_roles()
