{#- M11 (access anomalies): the steps of the model's pre-hook access_anomaly_state
    (auth_windows.sql), in the order it runs them, and the accesses they read. -#}

{#- Successful accesses (Didit Console or API, Keycloak log-ins), one shape; the conditions
    select which audit entries and Keycloak events are read. -#}
{% macro access_events_sql(didit_condition='true', keycloak_condition='true') -%}
    select
        'didit:' || l.audit_log_id as event_id,
        'didit' as source_system,
        lower(coalesce(l.actor, l.api_key_name)) as principal,
        lower(l.actor_type) as principal_type,
        l.event_ts,
        l.ip_address,
        l.country_code,
        coalesce(l.application_name, 'didit-console') as application
    from {{ ref('stg_didit__audit_logs') }} as l
    where l.status_code < 400 and coalesce(l.actor, l.api_key_name) is not null
        and {{ didit_condition }}
    union all
    select
        'keycloak:' || e.event_id,
        'keycloak',
        coalesce(u.email, u.username, e.user_id),
        'user',
        e.event_ts,
        e.ip_address,
        cast(null as text),
        e.client_id
    from {{ ref('stg_keycloak__events') }} as e
    left join {{ ref('stg_keycloak__users') }} as u on e.user_id = u.user_id
    where e.event_type = 'LOGIN'
        and {{ keycloak_condition }}
{%- endmacro %}

{% macro access_firsts_table(kind) -%}
    {{ target.schema }}_util.{{ this.identifier }}__{{ kind }}_firsts
{%- endmacro %}

{#- The tables of each account's first time per address and per country. -#}
{% macro access_firsts_create() -%}
    create table if not exists {{ access_firsts_table('ip') }} (
        principal text not null,
        principal_key text not null,
        ip_address text,
        ip_key text,
        first_at timestamptz not null,
        previous_first_at timestamptz,
        changed boolean not null,
        unique nulls not distinct (principal, ip_address)
    );
    create table if not exists {{ access_firsts_table('country') }} (
        principal text not null,
        principal_key text not null,
        country_code text not null,
        first_at timestamptz not null,
        previous_first_at timestamptz,
        changed boolean not null,
        primary key (principal, country_code)
    )
{%- endmacro %}

{#- access_rebuild: whether everything is read again. keycloak_new: the condition on
    Keycloak events loaded since the last build. -#}
{% macro access_rebuild_decide(keycloak_new) -%}
    create temporary table access_rebuild on commit drop as
    select
        {% if is_incremental() %}
            not exists (select 1 from {{ access_firsts_table('ip') }})
            -- case: the log-ins are read only when some user changed
            or case when exists (
                    select 1 from ({{ changed_keys(keycloak_principals_sql(), 'users') }}) as c
                ) then exists (
                    select 1 from {{ ref('stg_keycloak__events') }} as e
                    where e.user_id in (
                            select c.key
                            from ({{ changed_keys(keycloak_principals_sql(), 'users') }}) as c
                        )
                        and e.event_type = 'LOGIN' and not {{ keycloak_new }}
                ) else false end
        {% else %}
            true
        {% endif %} as full_rebuild
{%- endmacro %}

{#- access_new_firsts: the first time per account and address, and per account and country,
    of the accesses this build reads. -#}
{% macro access_new_firsts_collect(didit_new, keycloak_new) -%}
    {%- set full = '(select r.full_rebuild from access_rebuild as r)' -%}
    create temporary table access_new_firsts on commit drop as
    select
        a.principal,
        a.ip_address,
        a.country_code,
        grouping(a.ip_address) = 0 as is_ip,
        min(a.event_ts) as first_at
    from (
        -- each branch is skipped as a whole when its one-time condition is false, so the
        -- incremental one reads only the newest blocks (BRIN on the load time)
        {{ access_events_sql(didit_new ~ ' and not ' ~ full, keycloak_new ~ ' and not ' ~ full) }}
        union all
        {{ access_events_sql(full, full) }}
    ) as a
    group by grouping sets ((a.principal, a.ip_address), (a.principal, a.country_code));
    delete from access_new_firsts
    where not is_ip and country_code is null
{%- endmacro %}

{#- access_shifted: the accounts whose first access moves earlier. -#}
{% macro access_shifted_collect() -%}
    create temporary table access_shifted on commit drop as
    select n.principal
    from access_new_firsts as n
    inner join {{ access_firsts_table('ip') }} as s on n.principal = s.principal
    where n.is_ip
    group by n.principal
    having min(n.first_at) < min(s.first_at)
{%- endmacro %}

{#- Incremental build: the rows that are judged again go first. -#}
{% macro access_anomalies_pre_delete() -%}
    delete from {{ this }}
    where (select r.full_rebuild from access_rebuild as r)
        or principal_key in (
            select s.principal_key from {{ access_firsts_table('ip') }} as s
            where s.principal in (select h.principal from access_shifted as h)
        );
    -- a first access replaced by an earlier one
    delete from {{ this }} as m
    using {{ access_firsts_table('ip') }} as s, access_new_firsts as n
    where n.is_ip
        and n.principal = s.principal
        and n.ip_address = s.ip_address
        and n.first_at < s.first_at
        and m.principal_key = s.principal_key
        and m.ip_key = s.ip_key
        and m.event_ts = s.first_at
{%- endmacro %}

{#- The kept firsts: emptied for a full rebuild, then merged with the new ones; a first that
    moved, and every address of an account in access_shifted, is marked changed. -#}
{% macro access_firsts_update() -%}
    delete from {{ access_firsts_table('ip') }}
    where (select r.full_rebuild from access_rebuild as r);
    delete from {{ access_firsts_table('country') }}
    where (select r.full_rebuild from access_rebuild as r);
    update {{ access_firsts_table('ip') }} set changed = false, previous_first_at = null
    where changed or previous_first_at is not null;
    update {{ access_firsts_table('country') }} set changed = false, previous_first_at = null
    where changed or previous_first_at is not null;

    insert into {{ access_firsts_table('ip') }} as s
        (principal, principal_key, ip_address, ip_key, first_at, changed)
    select
        n.principal,
        {{ pseudonymise('n.principal') }},
        n.ip_address,
        {{ pseudonymise('n.ip_address') }},
        n.first_at,
        true
    from access_new_firsts as n
    where n.is_ip
    on conflict (principal, ip_address) do update
        set previous_first_at = s.first_at,
            first_at = least(s.first_at, excluded.first_at),
            changed = excluded.first_at <= s.first_at;
    update {{ access_firsts_table('ip') }} set changed = true
    where principal in (select h.principal from access_shifted as h) and not changed;

    insert into {{ access_firsts_table('country') }} as s
        (principal, principal_key, country_code, first_at, changed)
    select
        n.principal,
        {{ pseudonymise('n.principal') }},
        n.country_code,
        n.first_at,
        true
    from access_new_firsts as n
    where not n.is_ip
    on conflict (principal, country_code) do update
        set previous_first_at = s.first_at,
            first_at = least(s.first_at, excluded.first_at),
            changed = excluded.first_at <= s.first_at;

    analyze {{ access_firsts_table('ip') }};
    analyze {{ access_firsts_table('country') }}
{%- endmacro %}
