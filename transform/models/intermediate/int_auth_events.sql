-- Authentication events from every source in one shape (Annex 3.2.3(d)): Keycloak log-ins,
-- failures and lockouts, and Didit API requests refused with 401/403 (a failed credential).
-- Incremental: events loaded since the last build are added (an event re-sent by a tap
-- replaces its row); the Keycloak events of users whose e-mail or username changed (or who
-- appeared or vanished) are recomputed, so a principal always follows the current user
-- table as in a build from scratch. Later incremental models find the new rows from the
-- staging facts' load time and this table's unique id; they notice a changed principal from
-- the user table themselves.
{{ config(
    materialized='incremental',
    unique_key='auth_event_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[
        {'columns': ['auth_event_id'], 'unique': True},
        {'columns': ['source_system', 'event_ts']},
    ],
    pre_hook=[
        "{{ reset_watermark_on_full_build() }}",
        "{{ create_key_snapshot() }}",
    ],
    post_hook=[
        "{% for m in ['stg_keycloak__events', 'stg_didit__audit_logs'] %}
        {{ save_watermark(ref(m), name=this.identifier ~ ':' ~ m) }};
        {% endfor %}",
        "{{ save_key_snapshot(keycloak_principals_sql()) }}",
    ]
) }}

with keycloak_users as (
    select
        user_id,
        coalesce(email, username) as principal
    from {{ ref('stg_keycloak__users') }}
),

{% if is_incremental() %}
    changed_users as (
        {{ changed_keys(keycloak_principals_sql()) }}
    ),
{% endif %}

keycloak_events as (
    select e.*
    from {{ ref('stg_keycloak__events') }} as e
    {% if is_incremental() %}
        where {{ new_since_last_build('e.loaded_at', 'stg_keycloak__events') }}
        union all
        -- the few users whose principal changed: their older events (read only then)
        select e.*
        from {{ ref('stg_keycloak__events') }} as e
        where exists (select 1 from changed_users)
            and e.user_id in (select c.key from changed_users as c)
            and not {{ new_since_last_build('e.loaded_at', 'stg_keycloak__events') }}
    {% endif %}
),

keycloak as (
    select
        'keycloak:' || e.event_id as auth_event_id,
        'keycloak' as source_system,
        e.event_ts,
        -- the user table as one map looked up per event: no join of every event to it
        coalesce(
            (
                select jsonb_object_agg(u.user_id, u.principal) from keycloak_users as u
                where u.user_id is not null
            ) ->> e.user_id,
            lower(e.details ->> 'username'),
            e.user_id
        ) as principal,
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
        end as mfa_used,
        e.event_id as source_event_id,
        e.user_id,
        e.loaded_at
    from keycloak_events as e
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
        cast(null as boolean) as mfa_used,
        audit_log_id as source_event_id,
        cast(null as text) as user_id,
        loaded_at
    from {{ ref('stg_didit__audit_logs') }}
    -- LIKE, not a regular expression: this filter reads every audit-log entry
    where (
        status_code in (401, 403)
        or request_path like '%/auth/v2/programmatic/login/%'
        or request_path like '%/auth/v2/2fa/%'
    )
    {% if is_incremental() %}
        and {{ new_since_last_build('loaded_at', 'stg_didit__audit_logs') }}
    {% endif %}
)

select * from keycloak
union all
select * from didit
