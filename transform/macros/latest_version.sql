{#- The CTEs every staging model starts with: read the raw table (optionally only what was
    loaded since the last run, or as one jsonb record per row so missing optional fields become
    null) and rank the versions of each key, newest load first. Models keep version_rank = 1. -#}
{% macro latest_version(relation, key, incremental=false, as_json=false) %}
with source as (
    select
        {%- if as_json %} to_jsonb(s) as rec, s._sdc_batched_at, s._sdc_deleted_at
        {%- else %} s.*
        {%- endif %}
    from {{ relation }} as s
    {%- if incremental %}{{ loaded_since_last_run() }}{% endif %}
),

latest as (
    select
        *,
        row_number() over (
            partition by {{ key }} order by _sdc_batched_at desc
        ) as version_rank
    from source
)
{% endmacro %}

{% macro event_fact_config(key) %}
    {#- Large append-mostly event facts: incremental on load time, upsert on the event id. -#}
    {{ config(
        materialized='incremental',
        unique_key=key,
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[{'columns': [key], 'unique': True}, {'columns': ['event_ts']}]
    ) }}
{% endmacro %}
