-- Privileged events (Annex 3.2.3(b)(e), 11.2.2(f), 11.3, 11.4): role assignments with their
-- approval, administrative actions, and log-ins of privileged accounts. TIG 3.2.4 footnote 23:
-- an unapproved assignment is an immediate alarm; >= 2 elevations in 24 h is a behavioural one.
-- Incremental: admin actions and log-ins loaded since the last build (by the staging facts'
-- load time) are added; role
-- assignments are recomputed every time (few rows; the elevation count spans them; their ids
-- are stable and never vanish upstream, so the merge on event_id replaces them), and so are
-- the admin log-ins of accounts whose privilege, credentials or principal changed (the
-- pre-hook drops their old rows first: an account may have lost its privilege).
{{ config(
    materialized='incremental',
    unique_key='event_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['event_id'], 'unique': True}],
    pre_hook=[
        "{{ reset_watermark_on_full_build() }}",
        "{{ create_key_snapshot() }}",
        "{% if is_incremental() %}{{ privileged_activity_pre_delete() }}{% endif %}",
    ],
    post_hook=[
        "{% for m in ['stg_didit__audit_logs', 'stg_keycloak__events'] %}
        {{ save_watermark(ref(m), name=this.identifier ~ ':' ~ m) }};
        {% endfor %}",
        "{{ save_key_snapshot(privileged_login_inputs_sql()) }}",
    ]
) }}

-- an incremental build finds new rows through {{ ref('stg_didit__audit_logs') }},
-- {{ ref('stg_keycloak__events') }} and {{ ref('stg_keycloak__admin_events') }}
-- params is used in a window frame that sqlfluff cannot parse, hence the noqa
with params as (  -- noqa: ST03
    select
        make_interval(
            hours => cast({{ threshold('TIG_ELEVATIONS_WINDOW_HOURS') }} as integer)
        ) as elevation_window
),

changes as (
    select * from {{ ref('int_privilege_changes') }}
),

privileged_users as (
    {{ privileged_keycloak_users_sql() }}
),

assignments as (
    select
        change_type || ':' || source_system || ':' || privilege_change_id as event_id,
        event_ts,
        source_system,
        case when change_type = 'revoke' then 'revocation' else 'assignment' end as event_class,
        change_type = 'grant' and is_privileged_role as is_elevation,
        actor,
        target_principal,
        role_name as privilege,
        is_privileged_role,
        cast(null as text) as application,
        cast(null as text) as method,
        cast(null as text) as path,
        cast(null as boolean) as mfa_used,
        true as via_admin_system,
        approval_ticket_id,
        change_type = 'grant' and approval_ticket_id is null as unapproved_assignment
    from changes
),

admin_actions as (
    select
        admin_action_id as event_id,
        event_ts,
        source_system,
        'admin_action' as event_class,
        false as is_elevation,
        actor,
        cast(null as text) as target_principal,
        cast(null as text) as privilege,
        true as is_privileged_role,
        application,
        method,
        path,
        cast(null as boolean) as mfa_used,
        via_admin_system,
        cast(null as text) as approval_ticket_id,
        false as unapproved_assignment
    from {{ ref('int_admin_actions') }}
    {% if is_incremental() %}
        -- found by id from the staging facts: Didit entries loaded since the last build, and
        -- Keycloak's few admin events, recomputed upstream every build
        where admin_action_id in (
                select 'didit:' || l.audit_log_id
                from {{ ref('stg_didit__audit_logs') }} as l
                where {{ new_since_last_build('l.loaded_at', 'stg_didit__audit_logs') }}
                union all
                select 'keycloak:' || k.admin_event_id
                from {{ ref('stg_keycloak__admin_events') }} as k
            )
    {% endif %}
),

{% if is_incremental() %}
    changed_users as (
        {{ changed_keys(privileged_login_inputs_sql()) }}
    ),
{% endif %}

-- Keycloak log-ins to consider: all in a full build; else those built since the last build
-- and those of accounts whose privilege or credentials changed
logins as (
    select a.*
    from {{ ref('int_auth_events') }} as a
    where a.outcome = 'success' and a.source_system = 'keycloak'
    {% if is_incremental() %}
        and a.auth_event_id in (
            select 'keycloak:' || e.event_id
            from {{ ref('stg_keycloak__events') }} as e
            where {{ new_since_last_build('e.loaded_at', 'stg_keycloak__events') }}
        )
    union all
    select a.*
    from {{ ref('int_auth_events') }} as a
    where a.outcome = 'success' and a.source_system = 'keycloak'
        and exists (select 1 from changed_users)
        and a.user_id in (select c.key from changed_users as c)
        and a.auth_event_id not in (
            select 'keycloak:' || e.event_id
            from {{ ref('stg_keycloak__events') }} as e
            where {{ new_since_last_build('e.loaded_at', 'stg_keycloak__events') }}
        )
    {% endif %}
),

admin_logins as (
    select
        a.auth_event_id as event_id,
        a.event_ts,
        a.source_system,
        'admin_login' as event_class,
        false as is_elevation,
        a.principal as actor,
        cast(null as text) as target_principal,
        cast(null as text) as privilege,
        true as is_privileged_role,
        a.application,
        'LOGIN' as method,
        cast(null as text) as path,
        -- Keycloak records no factor per log-in: a second factor enrolled at that moment (M10)
        coalesce(a.mfa_used, m.has_mfa) as mfa_used,
        true as via_admin_system,
        cast(null as text) as approval_ticket_id,
        false as unapproved_assignment
    from logins as a
    inner join privileged_users as p on a.user_id = p.user_id
    left join {{ ref('int_keycloak_logins_mfa') }} as m on a.source_event_id = m.login_event_id
),

-- only assignments can be elevations, so the 24 h window sorts them alone, not every admin
-- action; the other events count no elevation
scored as (
    select
        *,
        count(*) filter (where is_elevation) over (
            partition by target_principal order by event_ts
            range between (select elevation_window from params) preceding and current row  -- noqa: PRS
        ) as elevations_24h
    from assignments
    union all
    select
        *,
        0
    from admin_actions
    union all
    select
        *,
        0
    from admin_logins
),

-- one HMAC per distinct person rather than one per event
people as (
    select
        p.person,
        {{ pseudonymise('p.person') }} as person_key
    from (
        select s.actor as person from scored as s
        union
        select s.target_principal from scored as s
    ) as p
    where p.person is not null
)

select
    s.event_id,
    s.event_ts,
    s.source_system,
    s.event_class,
    a.person_key as actor_key,
    t.person_key as target_principal_key,
    s.privilege,
    s.is_privileged_role,
    s.application,
    s.method,
    -- ids in paths (Keycloak user ids, Didit member ids) would identify people: masked
    regexp_replace(
        s.path, '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}',
        '{id}', 'g'
    ) as path,
    s.mfa_used,
    s.via_admin_system,
    s.approval_ticket_id,
    s.unapproved_assignment,
    s.is_elevation,
    case when s.is_elevation then s.elevations_24h else 0 end as elevations_24h,
    s.is_elevation
    and s.elevations_24h >= {{ threshold('TIG_ELEVATIONS_COUNT') }} as behavioural_alarm
from scored as s
left join people as a on s.actor = a.person
left join people as t on s.target_principal = t.person
