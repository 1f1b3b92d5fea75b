{#- Helpers of the incremental authentication and access models (int_auth_events,
    int_admin_actions, int_privilege_changes, M6, M7, M11).

    Key snapshots: a model whose rows depend on a small, slowly changing table (a Keycloak
    user's e-mail, the set of privileged accounts) keeps that table's last state it built from
    in <schema>_util.<model>__keys (key, value). The next incremental build compares the
    current state with it and recomputes the rows of the keys that changed, appeared or
    vanished; the post-hook then saves the current state, in the model's own transaction. One
    table per model, so two models built in parallel never create the same table. -#}

{% macro key_snapshot_table(name='keys') -%}
    {{ target.schema }}_util.{{ this.identifier }}__{{ name }}
{%- endmacro %}

{% macro create_key_snapshot(name='keys') -%}
    {#- pre-hook; a build from scratch forgets the previous state -#}
    create table if not exists {{ key_snapshot_table(name) }} (
        key text primary key,
        value text
    );
    {%- if not is_incremental() %}
        delete from {{ key_snapshot_table(name) }};
    {%- endif %}
{%- endmacro %}

{% macro changed_keys(current_sql, name='keys') -%}
    {#- Keys whose value differs from the saved snapshot, or that appeared or vanished.
        current_sql selects (key, value), one row per key. -#}
    select coalesce(c.key, s.key) as key
    from ({{ current_sql }}) as c
    full outer join {{ key_snapshot_table(name) }} as s on c.key = s.key
    where c.key is null or s.key is null or c.value is distinct from s.value
{%- endmacro %}

{% macro save_key_snapshot(current_sql, name='keys') -%}
    {#- post-hook -#}
    delete from {{ key_snapshot_table(name) }};
    insert into {{ key_snapshot_table(name) }} (key, value)
    select c.key, c.value from ({{ current_sql }}) as c
{%- endmacro %}

{#- The principal a Keycloak user's events are attributed to (as in int_auth_events and
    int_admin_actions), as a (key, value) snapshot. -#}
{% macro keycloak_principals_sql() -%}
    select user_id as key, coalesce(email, username) as value
    from {{ ref('stg_keycloak__users') }}
{%- endmacro %}

{#- M6 (auth failure detections), incremental. A detection is an episode of flagged events of
    one key (account, source IP, or all lockouts of a source) closer than the window to each
    other; an event is flagged from the events in the window before it. So events new since
    the last build (new in the staging facts, or Keycloak events of a user whose principal
    changed) can change flags only at or after the earliest
    of them, T, and can only join an episode that reaches T - window. Per source system the
    cut is T - window, moved back to the start of any detection that straddles it (repeated
    until none does). Detections from the cut on are deleted here and recomputed by the model
    from the events after cut - 2 windows (the look-back of flags, spray buckets and the
    failures counted into a detection); every detection before the cut ended before it and
    its inputs did not change. The cuts live in a temporary table of this transaction. -#}
{% macro auth_detection_window() -%}
    make_interval(mins => cast({{ policy('BRUTEFORCE_WINDOW_MINUTES') }} as integer))
{%- endmacro %}

{% macro auth_detection_lookback() -%}
    greatest(
        {{ auth_detection_window() }},
        make_interval(mins => cast({{ threshold('TIG_LOCKOUTS_WINDOW_MINUTES') }} as integer))
    ) * 2
{%- endmacro %}

{% macro auth_detection_cuts() %}
    create temporary table auth_detection_cuts on commit drop as
    with recursive changed as (
        -- events loaded since the last build, read from the staging facts (index on the load
        -- time); every one counts, auth event or not: an earlier cut only recomputes more
        select
            'didit' as source_system,
            l.event_ts
        from {{ ref('stg_didit__audit_logs') }} as l
        where {{ new_since_last_build('l.loaded_at', 'stg_didit__audit_logs') }}
        union all
        select
            'keycloak',
            e.event_ts
        from {{ ref('stg_keycloak__events') }} as e
        where {{ new_since_last_build('e.loaded_at', 'stg_keycloak__events') }}
        union all
        -- and the Keycloak events of users whose principal changed (read only then): they
        -- moved from one account's windows to another's
        select
            a.source_system,
            a.event_ts
        from {{ ref('int_auth_events') }} as a
        where exists (select 1 from ({{ changed_keys(keycloak_principals_sql(), 'users') }}) as x)
            and a.source_system = 'keycloak'
            and a.user_id in (
                select x.key from ({{ changed_keys(keycloak_principals_sql(), 'users') }}) as x
            )
    ),

    cut (source_system, cut_at) as (
        select
            source_system,
            min(event_ts) - {{ auth_detection_window() }}
        from changed
        group by source_system
        union all
        select
            c.source_system,
            n.next_cut
        from cut as c
        cross join lateral (
            select min(d.detected_at) as next_cut
            from {{ this }} as d
            where d.source_system = c.source_system
                and d.detected_at < c.cut_at
                and d.window_end >= c.cut_at
        ) as n
        where n.next_cut is not null
    )

    select
        source_system,
        min(cut_at) as cut_at
    from cut
    group by source_system;

    analyze auth_detection_cuts;

    delete from {{ this }} as d
    using auth_detection_cuts as c
    where d.source_system = c.source_system and d.detected_at >= c.cut_at
{% endmacro %}

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

{#- M11 (access anomalies). A row is an account's first access from an address, after the
    account's learning period. What decides that is small: per account and address (and per
    account and country) the time first seen. The model keeps these firsts in
    <schema>_util.mart_nis2_access_anomalies__ip_firsts / __country_firsts, updated by its
    pre-hook from the accesses loaded since the last build (all of them in a full build, and
    when a Keycloak user's principal changed, which moves older log-ins to another account);
    a first that moved (new, or earlier or equal: another access at the same instant) is
    marked changed, and the model looks up the accesses at those instants through the
    event-time index of the staging tables. -#}

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

{% macro access_anomaly_state() %}
    {%- set didit_new = new_since_last_build('l.loaded_at', 'stg_didit__audit_logs') -%}
    {%- set keycloak_new = new_since_last_build('e.loaded_at', 'stg_keycloak__events') -%}
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
    );

    -- everything is read again in a full build, when no firsts are kept yet, or when a
    -- Keycloak user whose older log-ins are counted changed principal
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
        {% endif %} as full_rebuild;

    {%- set full = '(select r.full_rebuild from access_rebuild as r)' %}
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
    delete from access_new_firsts where not is_ip and country_code is null;

    -- accounts whose first access moves earlier: their learning period moves, so all their
    -- addresses are judged again
    create temporary table access_shifted on commit drop as
    select n.principal
    from access_new_firsts as n
    inner join {{ access_firsts_table('ip') }} as s on n.principal = s.principal
    where n.is_ip
    group by n.principal
    having min(n.first_at) < min(s.first_at);

    {% if is_incremental() %}
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
            and m.event_ts = s.first_at;
    {% endif %}

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

{% macro new_since_last_build(column, input) -%}
    {#- Rows of input loaded after this model last read it (a watermark per input, see
        loaded_after_watermark in macros/incremental.sql, which inlines it as a constant). -#}
    {{ loaded_after_watermark(column, this.identifier ~ ':' ~ input) }}
{%- endmacro %}
