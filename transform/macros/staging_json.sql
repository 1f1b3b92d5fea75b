{#- Staging for Didit's smaller reference streams: the row is read as jsonb so that an optional
    field the API omits becomes null instead of breaking the build (API-NOTES: make non-core
    fields nullable). Latest version per key wins; the loader's soft deletes are kept as a flag.
    fields: list of [json_key, alias, kind] with kind in text, ts, int, num, bool, json. -#}
{% macro stg_from_json(source_name, table_name, key, fields) %}
{{ latest_version(
    source(source_name, table_name), "rec ->> '" ~ key ~ "'", as_json=true, key_columns=[key]
) }}

select
{%- for json_key, alias, kind in fields %}
    {% if kind == 'ts' -%}
    {{ parse_utc("rec ->> '" ~ json_key ~ "'") }}
    {%- elif kind == 'int' -%}
    cast(rec ->> '{{ json_key }}' as bigint)
    {%- elif kind == 'num' -%}
    cast(rec ->> '{{ json_key }}' as numeric)
    {%- elif kind == 'bool' -%}
    cast(rec ->> '{{ json_key }}' as boolean)
    {%- elif kind == 'json' -%}
    rec -> '{{ json_key }}'
    {%- else -%}
    rec ->> '{{ json_key }}'
    {%- endif %} as {{ alias }},
{%- endfor %}
    rec ->> '_sdc_deleted_at' is not null as is_deleted_at_source,
    {{ parse_utc('_sdc_batched_at') }} as loaded_at
from latest
where version_rank = 1
{% endmacro %}
