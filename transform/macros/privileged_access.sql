{#- Privileged Keycloak accounts (seed privileged_roles) for M7 (privileged activity) and M11
    (access anomalies), as (key, value) snapshots (key_snapshots.sql). -#}

{#- M7: what a Keycloak user's admin log-ins depend on besides the log-in itself: whether the
    account holds a privileged role now, its credentials (a second factor enrolled at the
    log-in, from int_keycloak_logins_mfa) and its principal. One (key, value) row per user. -#}
{% macro privileged_login_inputs_sql() -%}
    select
        i.user_id as key,
        string_agg(i.part, ',' order by i.part) as value
    from (
        select
            pu.user_id,
            'privileged' as part
        from ({{ privileged_keycloak_users_sql() }}) as pu
        union all
        select
            c.user_id,
            concat_ws(':', c.credential_id, c.credential_type, c.created_at, c.removed_at)
        from {{ ref('stg_keycloak__credentials') }} as c
        union all
        -- the account the log-ins are attributed to (int_auth_events.principal)
        select
            u.user_id,
            'principal:' || coalesce(u.email, u.username)
        from {{ ref('stg_keycloak__users') }} as u
    ) as i
    where i.user_id is not null
    group by i.user_id
{%- endmacro %}

{#- M7 pre-hook of an incremental build: the admin log-ins of users whose privilege,
    credentials or principal changed are recomputed; their old rows go first. -#}
{% macro privileged_activity_pre_delete() %}
    delete from {{ this }}
    where event_class = 'admin_login'
        and exists (select 1 from ({{ changed_keys(privileged_login_inputs_sql()) }}) as c)
        and event_id in (
            select a.auth_event_id
            from {{ ref('int_auth_events') }} as a
            where a.source_system = 'keycloak'
                and a.user_id in (
                    select c.key from ({{ changed_keys(privileged_login_inputs_sql()) }}) as c
                )
        )
{% endmacro %}

{#- M11: accounts holding a privileged Keycloak role now, as a (key, value) snapshot. -#}
{% macro privileged_principals_sql() -%}
    select distinct
        lower(coalesce(u.email, u.username)) as key,
        'privileged' as value
    from ({{ privileged_keycloak_users_sql() }}) as pu
    inner join {{ ref('stg_keycloak__users') }} as u on pu.user_id = u.user_id
    where coalesce(u.email, u.username) is not null
{%- endmacro %}

{#- Keycloak users holding a privileged role now (seed privileged_roles), one row each. -#}
{% macro privileged_keycloak_users_sql() -%}
    select distinct m.user_id
    from {{ ref('stg_keycloak__user_role_mappings') }} as m
    inner join {{ ref('stg_keycloak__roles') }} as r on m.role_id = r.role_id
    inner join {{ ref('privileged_roles') }} as p
        on r.role_name = p.role_name and p.source_system = 'keycloak'
{%- endmacro %}
