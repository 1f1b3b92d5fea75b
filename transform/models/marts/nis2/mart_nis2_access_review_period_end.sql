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
    select * from {{ ref('int_period_ends') }}
),

users as (
    select * from {{ ref('stg_keycloak__users') }}
),

account_leave as (
    select * from {{ ref('int_keycloak_account_leave') }}
),

-- the latest log-in of each account in each month; carried forward below
monthly_logins as (
    select
        user_id,
        cast(date_trunc('month', event_ts) as date) as month,
        max(event_ts) as last_login_in_month
    from {{ ref('stg_keycloak__events') }}
    where event_type = 'LOGIN' and user_id is not null and event_ts <= {{ as_of() }}
    group by 1, 2
),

-- the last log-in up to each month (a hash join per account, not a lookup per row)
last_logins as (
    select
        mo.month,
        l.user_id,
        max(l.last_login_in_month) as last_used_at
    from months as mo
    inner join monthly_logins as l on mo.month >= l.month
    group by mo.month, l.user_id
),

held as (
    select * from {{ ref('int_access_roles_at_period_end') }}
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
        ll.last_used_at,
        cast(null as timestamptz) as last_reviewed_at,
        case
            when lv.disabled_at <= mo.period_end_at then false
            when lv.disabled_at > mo.period_end_at then true
            else u.is_enabled
        end as enabled_at_period_end,
        lv.employment_end_at
    from items as i
    inner join months as mo on i.month = mo.month
    inner join users as u on i.user_id = u.user_id
    left join account_leave as lv on i.user_id = lv.user_id
    left join last_logins as ll on i.month = ll.month and i.user_id = ll.user_id
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
