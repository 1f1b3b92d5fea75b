{#- One pseudonym key at a time (issue: after a key change one mart used the new key and an
    incremental one kept the old). The key is never stored: only its id, 'k_' + the first 16
    hex digits of HMAC-SHA256(key, 'nis2-pseudonym-key-id'), the formula report/pseudonyms.py
    uses too. A run or build with another key than the one the marts were made with stops,
    unless it is a full refresh of the whole project, which re-pseudonymises every mart; the new
    id is recorded only when that full refresh succeeded (on-run-end). -#}

{% macro pseudonym_key_id_sql() -%}
    'k_' || left(substr({{ pseudonymise("'nis2-pseudonym-key-id'") }}, 3), 16)
{%- endmacro %}

{% macro pseudonym_key_table() -%}
    {{ target.schema }}_util.pseudonym_key
{%- endmacro %}

{% macro is_whole_project_full_refresh() -%}
    {{ return(flags.FULL_REFRESH and not invocation_args_dict.get('select')) }}
{%- endmacro %}

{% macro nis2_guard_pseudonym_key() %}
    {#- only commands that write models can mix keys: test, compile, docs, ls read -#}
    {% if execute and flags.WHICH in ['run', 'build'] %}
        {% do run_query(
            "create table if not exists " ~ pseudonym_key_table()
            ~ " (key_id text not null, recorded_at timestamptz not null default now())"
        ) %}
        {% set ids = run_query(
            "select (select key_id from " ~ pseudonym_key_table()
            ~ " order by recorded_at desc limit 1), " ~ pseudonym_key_id_sql()
        ) %}
        {% set recorded = ids.columns[0].values()[0] %}
        {% set current = ids.columns[1].values()[0] %}
        {% if recorded is none %}
            {% do run_query(
                "insert into " ~ pseudonym_key_table() ~ " (key_id) values ('" ~ current ~ "')"
            ) %}
        {% elif recorded != current and not is_whole_project_full_refresh() %}
            {{ exceptions.raise_compiler_error(
                "The pseudonym key changed: the marts were built with key id " ~ recorded
                ~ ", this run has key id " ~ current ~ ". An incremental build would mix "
                ~ "pseudonyms of both keys. Rebuild every mart with the new key: "
                ~ "`dbt build --full-refresh` with no --select (Meltano: "
                ~ "`meltano invoke dbt-postgres build --full-refresh`), or set the old key back."
            ) }}
        {% endif %}
    {% endif %}
    select 1
{% endmacro %}

{% macro nis2_record_pseudonym_key(results) %}
    {#- after a successful whole-project full refresh, the marts carry the current key -#}
    {% if execute and flags.WHICH in ['run', 'build'] and is_whole_project_full_refresh() %}
        {% set failed = results | selectattr('status', 'in', ['error', 'fail', 'runtime error'])
            | list %}
        {% if failed | length == 0 %}
            {% do run_query(
                "insert into " ~ pseudonym_key_table() ~ " (key_id) select "
                ~ pseudonym_key_id_sql()
                ~ " where " ~ pseudonym_key_id_sql() ~ " is distinct from (select key_id from "
                ~ pseudonym_key_table() ~ " order by recorded_at desc limit 1)"
            ) %}
        {% endif %}
    {% endif %}
    select 1
{% endmacro %}
