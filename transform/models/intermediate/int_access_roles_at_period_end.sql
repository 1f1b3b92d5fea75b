-- Keycloak roles as they stood at each period end (mart_nis2_access_review_period_end): a role
-- is held when its latest grant/revoke admin event at or before the period end is a grant; with
-- no event before then, when its first later event is a revoke; with no event at all, when it is
-- held now. One row per month, account and role held, with the grant time when one is known.
with months as (
    select * from {{ ref('int_period_ends') }}
),

role_events as (
    select
        target_user_id as user_id,
        role_name,
        event_ts,
        change_type
    from {{ ref('int_privilege_changes') }}
    where source_system = 'keycloak' and target_user_id is not null and role_name is not null
),

current_roles as (
    select
        m.user_id,
        r.role_name,
        p.role_name is not null as is_privileged
    from {{ ref('stg_keycloak__user_role_mappings') }} as m
    inner join {{ ref('stg_keycloak__roles') }} as r on m.role_id = r.role_id
    left join {{ ref('privileged_roles') }} as p
        on r.role_name = p.role_name and p.source_system = 'keycloak'
),

-- every (account, role) ever held now or named by an event, with its privilege class
role_keys as (
    select
        user_id,
        role_name,
        is_privileged
    from current_roles
    union
    select
        e.user_id,
        e.role_name,
        p.role_name is not null
    from role_events as e
    left join {{ ref('privileged_roles') }} as p
        on e.role_name = p.role_name and p.source_system = 'keycloak'
),

-- per period end, the latest role change at or before it and the first one after it
changes_before as (
    select distinct on (mo.month, e.user_id, e.role_name)
        mo.month,
        e.user_id,
        e.role_name,
        e.change_type as last_change,
        e.event_ts as last_change_at
    from months as mo
    inner join role_events as e on mo.period_end_at >= e.event_ts
    order by mo.month asc, e.user_id asc, e.role_name asc, e.event_ts desc
),

changes_after as (
    select distinct on (mo.month, e.user_id, e.role_name)
        mo.month,
        e.user_id,
        e.role_name,
        e.change_type as next_change
    from months as mo
    inner join role_events as e on mo.period_end_at < e.event_ts
    order by mo.month asc, e.user_id asc, e.role_name asc, e.event_ts asc
),

roles_at_period_end as (
    select
        mo.month,
        k.user_id,
        k.role_name as entitlement,
        k.is_privileged,
        b.last_change,
        b.last_change_at,
        a.next_change,
        c.user_id is not null as held_now
    from months as mo
    cross join role_keys as k
    left join current_roles as c on k.user_id = c.user_id and k.role_name = c.role_name
    left join changes_before as b
        on mo.month = b.month and k.user_id = b.user_id and k.role_name = b.role_name
    left join changes_after as a
        on mo.month = a.month and k.user_id = a.user_id and k.role_name = a.role_name
),

held as (
    select
        month,
        user_id,
        entitlement,
        is_privileged,
        last_change_at as granted_at
    from roles_at_period_end
    where coalesce(
            last_change = 'grant',
            case next_change when 'revoke' then true when 'grant' then false else held_now end
        )
)

select
    h.month,
    h.user_id,
    h.entitlement,
    h.is_privileged,
    h.granted_at
from held as h
