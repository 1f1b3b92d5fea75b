"""Where the warehouse keeps the real identities behind the marts' pseudonyms, for the
internal version only.

The marts hash these columns of the intermediate and staging models with
transform/macros/pseudonymise.sql; hashing the same values with the same key gives the reverse
map. Reading the models (not the raw tap tables) keeps the report on the same values dbt hashed,
e.g. the lower-cased principal of an API key.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator

# (model, columns whose values the marts pseudonymise, directly or as a fallback)
IDENTITY_SOURCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("int_auth_events", ("principal", "src_ip")),
    ("int_privilege_changes", ("actor", "target_principal")),
    ("int_admin_actions", ("actor",)),
    ("int_security_events_unified", ("principal", "src_ip")),
    ("stg_didit__audit_logs", ("actor", "api_key_name", "ip_address")),
    ("stg_didit__users", ("didit_internal_id",)),
    ("stg_keycloak__users", ("email", "username", "user_id")),
    ("stg_keycloak__events", ("ip_address",)),
)
# ip_prefix_key hashes the network of an address (transform/macros/pseudonymise.sql ip_network):
# /24 for IPv4, /48 for IPv6, as PostgreSQL prints network(set_masklen(inet, n)).
PREFIX_LENGTH = {4: 24, 6: 48}


def with_ip_prefixes(values: Iterable[str]) -> Iterator[str]:
    """Each value, and for an IP address also the network the marts' ip_prefix_key hashes
    ('198.51.100.0/24', '2001:db8:1::/48')."""
    for value in values:
        yield value
        try:
            address = ipaddress.ip_interface(value).ip
        except ValueError:
            continue
        prefix = PREFIX_LENGTH[address.version]
        yield str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
