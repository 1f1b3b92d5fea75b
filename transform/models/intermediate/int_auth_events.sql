-- Authentication events from every source in one shape (Annex 3.2.3(d)): Keycloak log-ins,
-- failures and lockouts, and Didit API requests refused with 401/403 (a failed credential).
with keycloak_users as (
    select
        user_id,
        coalesce(email, username) as principal
    from {{ ref('stg_keycloak__users') }}
),

keycloak as (
    select
        'keycloak:' || e.event_id as auth_event_id,
        'keycloak' as source_system,
        e.event_ts,
        coalesce(u.principal, lower(e.details ->> 'username'), e.user_id) as principal,
        'user' as principal_type,
        e.ip_address as src_ip,
        cast(null as text) as country_code,
        e.client_id as application,
        case
            when e.event_type like 'USER_DISABLED_BY_%LOCKOUT'
                or e.error = 'user_temporarily_disabled' then 'lockout'
            when e.event_type like '%\_ERROR' then 'failure'
            else 'success'
        end as outcome,
        e.event_type as event_name,
        e.error,
        case
            when e.details ? 'mfa' then cast(e.details ->> 'mfa' as boolean)
            when e.details ? 'credential_type'
                then e.details ->> 'credential_type' in ('otp', 'webauthn', 'webauthn-passwordless')
        end as mfa_used
    from {{ ref('stg_keycloak__events') }} as e
    left join keycloak_users as u on e.user_id = u.user_id
    where e.event_type in ('LOGIN', 'LOGIN_ERROR')
        or e.event_type like 'USER_DISABLED_BY_%LOCKOUT'
        or e.error = 'user_temporarily_disabled'
),

didit as (
    select
        'didit:' || audit_log_id as auth_event_id,
        'didit' as source_system,
        event_ts,
        lower(coalesce(request_email, actor, api_key_name, 'anonymous')) as principal,
        lower(actor_type) as principal_type,
        ip_address as src_ip,
        country_code,
        coalesce(application_name, 'didit') as application,
        case
            when status_code = 429 and request_path like '%/login/%' then 'lockout'
            when status_code in (401, 403) then 'failure'
            else 'success'
        end as outcome,
        http_method || ' ' || request_path as event_name,
        case when status_code in (401, 403) then 'http_' || status_code end as error,
        cast(null as boolean) as mfa_used
    from {{ ref('stg_didit__audit_logs') }}
    -- LIKE, not a regular expression: this filter reads every audit-log entry
    where status_code in (401, 403)
        or request_path like '%/auth/v2/programmatic/login/%'
        or request_path like '%/auth/v2/2fa/%'
)

select * from keycloak
union all
select * from didit
