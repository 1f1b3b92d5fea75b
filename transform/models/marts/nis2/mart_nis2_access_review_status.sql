-- Access rights as they stand (Annex 11.2.2(a)-(e), 11.2.3, 11.3.3, 11.5.4, 10.3): one row per
-- account and role held, plus one row per account ('account') for identity-level checks:
-- leavers who still have access, dormant accounts, and review cadence (TIG: entitlements every
-- 12 months, identities every 3 months; no review records are loaded, so reviews show as due).
with users as (
    select * from {{ ref('stg_keycloak__users') }}
),

account_leave as (
    select * from {{ ref('int_keycloak_account_leave') }}
),

logins as (
    select
        user_id,
        max(event_ts) as last_login_at
    from {{ ref('stg_keycloak__events') }}
    where event_type = 'LOGIN'
    group by user_id
),

granted as (
    select
        target_user_id as user_id,
        role_name,
        max(event_ts) as granted_at
    from {{ ref('int_privilege_changes') }}
    where change_type = 'grant'
    group by target_user_id, role_name
),

entitlements as (
    select
        m.user_id,
        r.role_name as entitlement,
        p.role_name is not null as is_privileged
    from {{ ref('stg_keycloak__user_role_mappings') }} as m
    inner join {{ ref('stg_keycloak__roles') }} as r on m.role_id = r.role_id
    left join {{ ref('privileged_roles') }} as p
        on r.role_name = p.role_name and p.source_system = 'keycloak'
    union all
    select
        user_id,
        'account',
        false
    from users
),

rows as (
    select
        e.user_id || ':' || e.entitlement as access_review_id,
        u.user_id,
        coalesce(u.email, u.username) as principal,
        e.entitlement,
        e.is_privileged,
        e.entitlement = 'account' as is_identity_row,
        coalesce(g.granted_at, u.created_at) as granted_at,
        l.last_login_at as last_used_at,
        cast(null as timestamptz) as last_reviewed_at,
        u.is_enabled,
        u.is_service_account,
        lv.employment_end_at,
        lv.disabled_at,
        {{ as_of() }} as as_of_ts
    from entitlements as e
    inner join users as u on e.user_id = u.user_id
    left join account_leave as lv on e.user_id = lv.user_id
    left join logins as l on e.user_id = l.user_id
    left join granted as g on e.user_id = g.user_id and e.entitlement = g.role_name
)

select
    -- the account's id is pseudonymised too: this mart is read by management
    {{ pseudonymise('user_id') }} || ':' || entitlement as access_review_id,
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
    end as review_due_at,
    coalesce(last_reviewed_at, granted_at) + case
        when is_identity_row
            then make_interval(months => cast({{ threshold('TIG_IDENTITY_REVIEW_MONTHS') }} as integer))
        else make_interval(months => cast({{ threshold('TIG_ENTITLEMENT_REVIEW_MONTHS') }} as integer))
    end < as_of_ts as review_overdue,
    case when last_reviewed_at is null then 'not_recorded' else 'reviewed' end as review_outcome,
    case when employment_end_at <= as_of_ts then 'leaver' else 'active' end as hr_status,
    employment_end_at,
    is_enabled,
    coalesce(employment_end_at <= as_of_ts and is_enabled, false) as leaver_access_active,
    case when employment_end_at is not null and disabled_at >= employment_end_at - interval '1 day'
            then round(cast(extract(epoch from (disabled_at - employment_end_at)) / 86400 as numeric), 1)
    end as days_leaver_to_revoke,
    case when is_enabled
            then extract(day from (as_of_ts - coalesce(last_used_at, granted_at)))
    end as dormant_days,
    coalesce(
        is_enabled and extract(day from (as_of_ts - coalesce(last_used_at, granted_at)))
        > {{ policy('DORMANT_DAYS') }}, false
    ) as is_dormant,
    is_service_account as is_shared_identity,
    cast(null as boolean) as shared_identity_approved
from rows
