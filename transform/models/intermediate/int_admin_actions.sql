-- Administrative actions (Annex 3.2.3(e), 11.3, 11.4): every Keycloak admin event, and every
-- Didit API/Console write to an administrative path or by a Console member with an admin role.
-- Incremental: Didit entries loaded since the last build are added (audit entries never
-- change); the few Keycloak admin events are recomputed every time, so an actor's principal
-- follows the current user table as in a build from scratch. loaded_at is the source row's
-- load time.
{{ config(
    materialized='incremental',
    unique_key='admin_action_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['admin_action_id'], 'unique': True}],
    pre_hook=["{{ reset_watermark_on_full_build() }}"],
    post_hook=[
        "{{ save_watermark(ref('stg_didit__audit_logs'), name=this.identifier ~ ':stg_didit__audit_logs') }}"
    ]
) }}

with keycloak_users as (
    select
        user_id,
        coalesce(email, username) as principal
    from {{ ref('stg_keycloak__users') }}
),

keycloak as (
    select
        'keycloak:' || a.admin_event_id as admin_action_id,
        'keycloak' as source_system,
        a.event_ts,
        coalesce(u.principal, a.auth_user_id) as actor,
        'user' as actor_type,
        a.operation_type as method,
        a.resource_type || ' ' || coalesce(a.resource_path, '') as path,
        cast(null as integer) as status_code,
        a.ip_address,
        a.auth_client_id as application,
        a.auth_client_id in ('security-admin-console', 'admin-cli') as via_admin_system,
        a.loaded_at
    from {{ ref('stg_keycloak__admin_events') }} as a
    left join keycloak_users as u on a.auth_user_id = u.user_id
),

didit as (
    select
        'didit:' || l.audit_log_id as admin_action_id,
        'didit' as source_system,
        l.event_ts,
        lower(coalesce(l.actor, l.api_key_name)) as actor,
        lower(l.actor_type) as actor_type,
        l.http_method as method,
        l.request_path as path,
        l.status_code,
        l.ip_address,
        coalesce(l.application_name, 'didit') as application,
        l.actor_type = 'USER' as via_admin_system,
        l.loaded_at
    from {{ ref('stg_didit__audit_logs') }} as l
    where l.http_method in ('POST', 'PUT', 'PATCH', 'DELETE')
        and {{ is_admin_path('l.request_path') }}
        {% if is_incremental() %}
            and {{ new_since_last_build('l.loaded_at', 'stg_didit__audit_logs') }}
        {% endif %}
)

select * from keycloak
union all
select * from didit
