-- Keycloak accounts that hold or held a privileged role (Annex 11.3.1 list in seed
-- privileged_roles), with the last privileged grant and revocation from the admin events, so
-- a model can judge whether an account was privileged at a past instant.
with current_holders as (
    select distinct m.user_id
    from {{ ref('stg_keycloak__user_role_mappings') }} as m
    inner join {{ ref('stg_keycloak__roles') }} as r on m.role_id = r.role_id
    inner join {{ ref('privileged_roles') }} as p
        on r.role_name = p.role_name and p.source_system = 'keycloak'
),

history as (
    select
        target_user_id as user_id,
        max(event_ts) filter (where change_type = 'grant') as last_grant_at,
        max(event_ts) filter (where change_type = 'revoke') as last_revoke_at
    from {{ ref('int_privilege_changes') }}
    where source_system = 'keycloak' and is_privileged_role and target_user_id is not null
    group by target_user_id
)

select
    coalesce(c.user_id, h.user_id) as user_id,
    c.user_id is not null as is_privileged_now,
    h.last_grant_at,
    h.last_revoke_at
from current_holders as c
full outer join history as h on c.user_id = h.user_id
