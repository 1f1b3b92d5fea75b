{#- Incremental filter on load time (not event time), so late-arriving events are kept.
    Staging keeps the loader's _sdc_batched_at unchanged so the comparison needs no parsing. -#}
{% macro loaded_since_last_run() -%}
    {%- if is_incremental() %}
    where _sdc_batched_at >= (select max(_sdc_batched_at) from {{ this }})
    {%- endif %}
{%- endmacro %}
