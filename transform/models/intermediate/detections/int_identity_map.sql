-- One identity per person across sources (Annex 11.2.2(a)): every alias a source uses for a
-- person (Keycloak e-mail, username and user id; the Didit Console member's e-mail; a Wazuh
-- dstuser or Windows account) mapped to the identity, the lower-cased e-mail where Keycloak
-- knows it. Aliases of seed identity_aliases come first; then the Keycloak user table. With
-- the pseudonyms of both, so marts can be joined on pseudonyms alone. Raw identifiers: as
-- sensitive as staging.
with aliases as (
    select
        lower(alias) as alias,
        alias_kind,
        lower(identity) as identity,
        1 as priority
    from {{ ref('identity_aliases') }}
    union all
    select
        lower(a.alias),
        a.alias_kind,
        coalesce(u.email, u.username),
        2
    from {{ ref('stg_keycloak__users') }} as u
    cross join
        lateral (
            values (u.email, 'email'), (u.username, 'keycloak_username'), (u.user_id, 'keycloak_user_id')
        ) as a (alias, alias_kind)
    where a.alias is not null and coalesce(u.email, u.username) is not null
),

resolved as (
    select distinct on (alias)
        alias,
        alias_kind,
        identity
    from aliases
    order by alias, priority, identity
)

select
    alias,
    alias_kind,
    identity,
    {{ pseudonymise('alias') }} as alias_key,
    {{ pseudonymise('identity') }} as identity_key
from resolved
