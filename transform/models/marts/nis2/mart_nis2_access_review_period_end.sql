-- Access rights as they stood at the end of each month (Annex 10.3, 11.2.3, 11.5.4): the same
-- checks as mart_nis2_access_review_status (leavers with access, dormant accounts, reviews
-- overdue), judged at the period end (the month's end; as_of while the month runs) from the
-- dated history, so a pack for a closed month shows what was true at its end, not today.
-- What is reconstructed, and its limits (transform/README.md, "Evidence semantics"):
--   an account exists from created_at; it is disabled from its first disabling admin event
--   (or, with none recorded, as it is now); a role is held at the period end when its latest
--   Keycloak grant/revoke event before then is a grant; with no event before then, when its
--   first later event is a revoke, or, with no event at all, when it is held now; the last
--   log-in is the latest LOGIN before the period end. Accounts deleted from Keycloak since are
--   not in user_entity and are not reconstructed (their deletion is in the admin events).
with months as (
    select
        cast(m as date) as month,
        least(m + interval '1 month', {{ as_of() }}) as period_end_at
    from generate_series(
            (select date_trunc('month', min(event_ts)) from {{ ref('int_security_events_unified') }}),
            date_trunc('month', {{ as_of() }}),
            interval '1 month'
        ) as g (m)
),

users as (
    select * from {{ ref('stg_keycloak__users') }}
),

hr as (
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
),

-- the latest log-in of each account in each month; carried forward below
monthly_logins as (
    select
        user_id,
        cast(date_trunc('month', event_ts) as date) as month,
        max(event_ts) as last_login_in_month
    from {{ ref('stg_keycloak__events') }}
    where event_type = 'LOGIN' and user_id is not null
    group by 1, 2
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

roles_at_period_end as (
    select
        mo.month,
        k.user_id,
        k.role_name as entitlement,
        k.is_privileged,
        before.change_type as last_change,
        before.event_ts as last_change_at,
        after.change_type as next_change,
        c.user_id is not null as held_now
    from months as mo
    cross join role_keys as k
    left join current_roles as c on k.user_id = c.user_id and k.role_name = c.role_name
    left join lateral (
        select
            e.change_type,
            e.event_ts
        from role_events as e
        where e.user_id = k.user_id and e.role_name = k.role_name
            and e.event_ts <= mo.period_end_at
        order by e.event_ts desc limit 1
    ) as before on true
    left join lateral (
        select e.change_type from role_events as e
        where e.user_id = k.user_id and e.role_name = k.role_name
            and e.event_ts > mo.period_end_at
        order by e.event_ts limit 1
    ) as after on true
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
),

items as (
    select
        month,
        user_id,
        entitlement,
        is_privileged,
        granted_at,
        false as is_identity_row
    from held
    union all
    select
        mo.month,
        u.user_id,
        'account',
        false,
        u.created_at,
        true
    from months as mo
    inner join users as u on mo.period_end_at >= u.created_at
),

judged as (
    select
        i.month,
        mo.period_end_at,
        i.user_id,
        coalesce(u.email, u.username) as principal,
        i.entitlement,
        i.is_privileged,
        i.is_identity_row,
        coalesce(i.granted_at, u.created_at) as granted_at,
        (
            select max(l.last_login_in_month) from monthly_logins as l
            where l.user_id = i.user_id and l.month <= i.month
                and l.last_login_in_month <= mo.period_end_at
        ) as last_used_at,
        cast(null as timestamptz) as last_reviewed_at,
        case
            when d.disabled_at <= mo.period_end_at then false
            when d.disabled_at > mo.period_end_at then true
            else u.is_enabled
        end as enabled_at_period_end,
        h.employment_end_at
    from items as i
    inner join months as mo on i.month = mo.month
    inner join users as u on i.user_id = u.user_id
    left join hr as h on i.user_id = h.user_id
    left join disabled as d on i.user_id = d.user_id
    where u.created_at <= mo.period_end_at
)

select
    {{ pseudonymise('user_id') }} || ':' || entitlement || ':' || month as access_period_id,
    month,
    period_end_at,
    {{ pseudonymise('principal') }} as principal_key,
    entitlement,
    is_privileged,
    is_identity_row,
    granted_at,
    last_used_at,
    last_reviewed_at,
    coalesce(last_reviewed_at, granted_at) + case
        when is_identity_row
            then make_interval(months => cast({{ threshold('TIG_IDENTITY_REVIEW_MONTHS') }} as integer))
        else make_interval(months => cast({{ threshold('TIG_ENTITLEMENT_REVIEW_MONTHS') }} as integer))
    end < period_end_at as review_overdue,
    enabled_at_period_end,
    employment_end_at,
    coalesce(employment_end_at <= period_end_at and enabled_at_period_end, false)
        as leaver_access_active,
    coalesce(
        enabled_at_period_end
        and extract(day from (period_end_at - coalesce(last_used_at, granted_at)))
        > {{ policy('DORMANT_DAYS') }}, false
    ) as is_dormant
from judged
