-- When each Keycloak account's holder left and when the account was switched off: the HR end of
-- employment (user attribute employment_end_date) and the first disabling admin event (the user
-- deleted, or updated with enabled = false). The one place both access-review marts (as they
-- stand, and at each period end) read a leaver from.
with hr as (
    select
        user_id,
        max(case when attribute_name = 'employment_end_date'
                then {{ try_parse_utc('attribute_value') }}
        end) as employment_end_at
    from {{ ref('stg_keycloak__user_attributes') }}
    group by user_id
),

disabled as (
    select
        substring(resource_path from '^users/([^/]+)$') as user_id,
        min(event_ts) as disabled_at
    from {{ ref('stg_keycloak__admin_events') }}
    where resource_type = 'USER'
        and (
            operation_type = 'DELETE'
            or (operation_type = 'UPDATE' and representation ->> 'enabled' = 'false')
        )
    group by 1
)

select
    coalesce(h.user_id, d.user_id) as user_id,
    h.employment_end_at,
    d.disabled_at
from hr as h
full outer join disabled as d on h.user_id = d.user_id
where coalesce(h.user_id, d.user_id) is not null
