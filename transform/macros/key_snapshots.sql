{#- Key snapshots, for the incremental authentication and access models (int_auth_events,
    M6, M7, M11): a model whose rows depend on a small, slowly changing table (a Keycloak
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
    select
        c.key,
        c.value
    from ({{ current_sql }}) as c
{%- endmacro %}

{#- The principal a Keycloak user's events are attributed to (as in int_auth_events and
    int_admin_actions), as a (key, value) snapshot. -#}
{% macro keycloak_principals_sql() -%}
    select
        user_id as key,
        coalesce(email, username) as value
    from {{ ref('stg_keycloak__users') }}
{%- endmacro %}
