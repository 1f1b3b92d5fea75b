-- When each Keycloak account held each privileged role (Annex 11.3.1 list in seed
-- privileged_roles): one row per interval, so a model can judge whether an account was
-- privileged at a past instant under any of its roles. A null privileged_from means "since
-- before the admin-event history", a null privileged_until "still held".
with current_holders as (
    select distinct
        m.user_id,
        r.role_name
    from {{ ref('stg_keycloak__user_role_mappings') }} as m
    inner join {{ ref('stg_keycloak__roles') }} as r on m.role_id = r.role_id
    inner join {{ ref('privileged_roles') }} as p
        on r.role_name = p.role_name and p.source_system = 'keycloak'
),

changes as (
    select
        target_user_id as user_id,
        role_name,
        event_ts,
        change_type,
        lead(event_ts) over role_history as next_change_at,
        lag(change_type) over role_history as previous_change
    from {{ ref('int_privilege_changes') }}
    where
        source_system = 'keycloak'
        and is_privileged_role
        and target_user_id is not null
    window role_history as (partition by target_user_id, role_name order by event_ts)
),

last_changes as (
    select distinct on (user_id, role_name)
        user_id,
        role_name,
        event_ts,
        change_type
    from changes
    order by user_id asc, role_name asc, event_ts desc
),

intervals as (
    -- a grant holds until the next change of that role (a revoke ends it, a new grant goes on)
    select
        user_id,
        role_name,
        event_ts as privileged_from,
        next_change_at as privileged_until
    from changes
    where change_type = 'grant'
    union all
    -- a revoke with no grant on record before it: held since before the history
    select
        user_id,
        role_name,
        cast(null as timestamptz),
        event_ts
    from changes
    where change_type = 'revoke' and previous_change is null
    union all
    -- held now with no change on record: held since before the history
    -- held now although the last change on record was a revoke: granted again unrecorded
    select
        c.user_id,
        c.role_name,
        case when l.change_type = 'revoke' then l.event_ts end,
        cast(null as timestamptz)
    from current_holders as c
    left join last_changes as l on c.user_id = l.user_id and c.role_name = l.role_name
    where l.user_id is null or l.change_type = 'revoke'
)

select
    user_id,
    role_name,
    privileged_from,
    privileged_until
from intervals
