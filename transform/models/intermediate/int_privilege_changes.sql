-- Role grants and revocations (Annex 3.2.3(b), 11.2.2(f)): one row per admin event and role,
-- from Keycloak admin events on role mappings (the representation lists the roles) and from
-- Didit Console member role changes (PATCH .../members/{id}/ with a role in the body).
-- Incremental: Didit entries loaded since the last build are added (audit entries never
-- change); the few Keycloak role events are recomputed every time, so actor and target follow
-- the current user table as in a build from scratch.
{{ config(
    materialized='incremental',
    unique_key='privilege_change_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['privilege_change_id'], 'unique': True}],
    pre_hook=["{{ reset_watermark_on_full_build() }}"],
    post_hook=[
        "{{ save_watermark(ref('stg_didit__audit_logs'), name=this.identifier ~ ':stg_didit__audit_logs') }}"
    ]
) }}

with role_events as (
    select
        a.admin_event_id,
        a.event_ts,
        a.auth_user_id as actor_user_id,
        a.ip_address,
        a.operation_type,
        a.resource_path,
        substring(a.resource_path from 'users/([^/]+)/') as target_user_id,
        coalesce(
            a.details ->> 'approval_ticket_id',
            a.details ->> 'ticket_id',
            a.representation #>> '{0,attributes,approval_ticket_id,0}'
        ) as approval_ticket_id,
        case
            when jsonb_typeof(a.representation) = 'array' then a.representation
            else jsonb_build_array(coalesce(a.representation, '{}'::jsonb))
        end as roles
    from {{ ref('stg_keycloak__admin_events') }} as a
    where a.resource_type in ('REALM_ROLE_MAPPING', 'CLIENT_ROLE_MAPPING')
        and a.operation_type in ('CREATE', 'DELETE')
        and a.error is null
),

privileged as (
    select role_name from {{ ref('privileged_roles') }}
    where source_system = 'keycloak'
),

users as (
    select
        user_id,
        coalesce(email, username) as principal
    from {{ ref('stg_keycloak__users') }}
),

keycloak as (
    select
        e.admin_event_id || ':' || coalesce(r.role ->> 'name', '?') as privilege_change_id,
        e.admin_event_id,
        'keycloak' as source_system,
        e.event_ts,
        coalesce(actor.principal, e.actor_user_id) as actor,
        coalesce(target.principal, e.target_user_id) as target_principal,
        e.target_user_id,
        r.role ->> 'name' as role_name,
        case when e.operation_type = 'CREATE' then 'grant' else 'revoke' end as change_type,
        p.role_name is not null as is_privileged_role,
        e.approval_ticket_id,
        e.ip_address
    from role_events as e
    cross join lateral jsonb_array_elements(e.roles) as r (role)
    left join privileged as p on r.role ->> 'name' = p.role_name
    left join users as actor on e.actor_user_id = actor.user_id
    left join users as target on e.target_user_id = target.user_id
),

didit as (
    select
        l.audit_log_id as privilege_change_id,
        l.audit_log_id as admin_event_id,
        'didit' as source_system,
        l.event_ts,
        lower(coalesce(l.actor, l.api_key_name)) as actor,
        substring(l.request_path from '/members/([^/]+)/') as target_principal,
        substring(l.request_path from '/members/([^/]+)/') as target_user_id,
        l.request_role as role_name,
        'grant' as change_type,
        p.role_name is not null as is_privileged_role,
        l.request_approval_ticket_id as approval_ticket_id,
        l.ip_address
    from {{ ref('stg_didit__audit_logs') }} as l
    left join {{ ref('privileged_roles') }} as p
        on l.request_role = p.role_name and p.source_system = 'didit'
    -- the cheap tests first: the pattern is matched only on the few entries with a role
    where l.request_role is not null
        and l.status_code < 400
        and l.http_method in ('PATCH', 'PUT', 'POST')
        and l.request_path ~ '/members/[^/]+/$'
        {% if is_incremental() %}
            and {{ new_since_last_build('l.loaded_at', 'stg_didit__audit_logs') }}
        {% endif %}
)

select * from keycloak
union all
select * from didit
