{#- The CTEs every staging model starts with: read the raw table (optionally only what was
    loaded since the last run, or as one jsonb record per row so missing optional fields become
    null) and rank the versions of each key, newest load first. Models keep version_rank = 1.
    When the raw table has a unique index on exactly the key column(s) (target-postgres makes
    the stream's key the primary key and upserts on it) there is one version per key, and the
    ranking, a sort of the whole table, is skipped. -#}
{% macro latest_version(relation, key, incremental=false, as_json=false, key_columns=none) %}
{%- set one_version = key_is_unique(relation, key_columns or [key]) | trim == 'true' -%}
{#- materialized: otherwise PostgreSQL inlines the CTE and rebuilds to_jsonb(s) for every
    field read from rec (15 times slower on Wazuh alerts) -#}
with source as {% if as_json %}materialized {% endif %}(
    {%- if as_json %}
    select
        to_jsonb(s) as rec,
        s._sdc_batched_at,
        s._sdc_deleted_at
    {%- else %}
    select s.*
    {%- endif %}
    from {{ relation }} as s
    {%- if incremental %}{{ loaded_since_last_run() }}{% endif %}
),

latest as (
    select
        *,
        {%- if one_version %}
        1 as version_rank
        {%- else %}
        row_number() over (
            partition by {{ key }} order by _sdc_batched_at desc
        ) as version_rank
        {%- endif %}
    from source
)
{% endmacro %}

{% macro key_is_unique(relation, columns) -%}
    {#- Renders "true" when a unique, non-partial index covers exactly these columns (names, any
        order), else nothing. Text rather than return(): it also renders without a database
        (sqlfluff's jinja templater), where the ranked variant is the one linted. -#}
    {%- if execute -%}
    {%- set plain = columns | list -%}
    {%- for c in columns if not modules.re.match('^[a-z_][a-z0-9_]*$', c) -%}
        {%- do plain.clear() -%}
    {%- endfor -%}
    {%- if plain | length == columns | length -%}
        {%- set query -%}
            select {{ unique_index_exists(relation, columns) }}
        {%- endset -%}
        {%- if run_query(query).columns[0].values()[0] -%}true{%- endif -%}
    {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro unique_index_exists(relation, columns) -%}
    {#- SQL boolean: a valid, unique, non-partial index covers exactly these plain columns. -#}
    exists(
        select 1
        from pg_index as i
        where i.indrelid = to_regclass(
                quote_ident('{{ relation.schema }}') || '.' || quote_ident('{{ relation.identifier }}')
            )
            and i.indisunique and i.indisvalid and i.indpred is null and i.indexprs is null
            and (
                select array_agg(cast(a.attname as text) order by cast(a.attname as text))
                from pg_attribute as a
                where a.attrelid = i.indrelid and a.attnum = any(i.indkey)
            ) = array[{% for c in columns | sort %}'{{ c }}'{% if not loop.last %}, {% endif %}{% endfor %}]
    )
{%- endmacro %}

{% macro event_fact_config(key, source_name, table_name) %}
    {#- Large append-mostly event facts: incremental on load time, upsert on the event id.
        A btree on load time finds exactly the rows after a downstream model's watermark. Not
        BRIN: re-sent events are deleted and inserted again, later rows fill the freed space
        in old blocks, and after a few runs a BRIN range matched two thirds of the table.
        source_name, table_name: the raw source table, given an index on the loader's load time
        (raw_load_time_index) so a run reads only the rows loaded since the last one. A string
        rendered when the hook runs: while dbt parses, source() does not name the table yet. -#}
    {{ config(
        materialized='incremental',
        unique_key=key,
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        pre_hook=[
            "{{ raw_load_time_index(source('" ~ source_name ~ "', '" ~ table_name ~ "')) }}",
            "{{ local_parallel_scan() }}"
        ],
        indexes=[
            {'columns': [key], 'unique': True},
            {'columns': ['event_ts']},
            {'columns': ['loaded_at']},
        ]
    ) }}
{% endmacro %}

{% macro raw_load_time_index(raw) -%}
    {#- An index on _sdc_batched_at of a raw table, created once when this role may: without
        it every incremental run scanned the whole raw table for the new rows (2.2 s of a 20 s
        run at 2M audit-log entries). target-postgres keeps indexes it did not create. Skipped
        when the table does not exist yet, already has such an index, or belongs to a loader
        role this one is not a member of (then the scan stays; docs/contracts.md). -#}
    do $index$
    declare
        raw_table regclass := to_regclass('{{ raw.schema }}.{{ raw.identifier }}');
    begin
        if raw_table is not null
            and pg_has_role((select c.relowner from pg_class as c where c.oid = raw_table), 'USAGE')
            and not exists (
                select 1 from pg_index as i
                inner join pg_attribute as a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
                where i.indrelid = raw_table and a.attname = '_sdc_batched_at'
            )
        then
            execute format(
                'create index %I on %s (_sdc_batched_at)',
                left('{{ raw.identifier }}', 40) || '_nis2_load_time', raw_table
            );
        end if;
    end
    $index$
{%- endmacro %}
