-- Every successful Keycloak log-in with the evidence of a second factor at that moment (Annex
-- 11.7, 11.3.2(a)). Keycloak records no per-login "MFA used" field, so the evidence is the
-- account's enrolment in `credential`: a second factor counts only if it was created at or
-- before the log-in and not yet removed. Privilege is judged at log-in time from the role
-- history; exceptions from the register (behind M16) only while approved and not expired.
with logins as (
    select
        event_id,
        event_ts,
        user_id,
        coalesce(client_id, '(no client)') as application,
        event_type
    from {{ ref('stg_keycloak__events') }}
    where event_type in ('LOGIN', 'CLIENT_LOGIN') and error is null
),

users as (
    select
        user_id,
        username,
        email,
        is_service_account
    from {{ ref('stg_keycloak__users') }}
),

factors as (
    select
        l.event_id,
        bool_or(m.phishing_resistant) as phishing_resistant,
        case
            when bool_or(m.method_tier = 'strong') then 'strong'
            when bool_or(m.method_tier = 'medium') then 'medium'
            when bool_or(m.method_tier = 'last_resort') then 'last_resort'
        end as method_tier
    from logins as l
    inner join {{ ref('stg_keycloak__credentials') }} as c
        on
            l.user_id = c.user_id
            and l.event_ts >= c.created_at
            and (c.removed_at is null or l.event_ts < c.removed_at)
    inner join {{ ref('mfa_methods') }} as m
        on c.credential_type = m.credential_type and m.counts_as_mfa
    group by l.event_id
),

exceptions as (
    select
        exception_id,
        scope_type,
        lower(scope_value) as scope_value,
        approved_at,
        expires_at
    from {{ ref('int_policy_exceptions') }}
    where linked_metric = 'mfa_coverage' and invalid_fields = ''
),

classified as (
    select
        l.event_id,
        l.event_ts,
        l.user_id,
        u.username,
        u.email,
        l.application,
        case
            when l.event_type = 'CLIENT_LOGIN' or coalesce(u.is_service_account, false)
                then 'service'
            when exists (
                    select 1 from {{ ref('int_keycloak_privileged_accounts') }} as pa
                    where
                        pa.user_id = l.user_id
                        and (pa.privileged_from is null or l.event_ts >= pa.privileged_from)
                        and (pa.privileged_until is null or l.event_ts < pa.privileged_until)
                ) then 'privileged'
            else 'standard'
        end as principal_class,
        coalesce(k.internet_facing, true) as internet_facing,
        f.event_id is not null as has_mfa,
        coalesce(f.method_tier, 'none') as method_tier,
        coalesce(f.phishing_resistant, false) as phishing_resistant
    from logins as l
    left join users as u on l.user_id = u.user_id
    left join factors as f on l.event_id = f.event_id
    left join {{ ref('keycloak_clients') }} as k on l.application = k.client_id
)

select
    c.event_id as login_event_id,
    c.event_ts,
    c.user_id,
    c.application,
    c.principal_class,
    c.internet_facing,
    c.has_mfa,
    c.method_tier,
    c.phishing_resistant,
    x.exception_id
from classified as c
-- only log-ins without a second factor look for an exception (the register is small)
left join lateral (
    select min(e.exception_id) as exception_id
    from exceptions as e
    where
        not c.has_mfa
        and c.event_ts >= e.approved_at
        and c.event_ts < e.expires_at
        and (
            (e.scope_type in ('user', 'service_account') and e.scope_value in (c.username, c.email))
            or (e.scope_type = 'application' and e.scope_value = lower(c.application))
            or e.scope_type = 'entity'
        )
) as x on true
