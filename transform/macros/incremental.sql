{#- Incremental filter on load time (not event time), so late-arriving events are kept.
    Staging keeps the loader's _sdc_batched_at unchanged so the comparison needs no parsing.
    Strictly newer than the last batch already taken: every batch target-postgres commits gets
    its own _sdc_batched_at, and ">=" re-read the whole last batch on every run (after a
    one-batch backfill: the whole table). Re-reading would be harmless (upsert on the key), only
    slow. -#}
{% macro loaded_since_last_run() -%}
    {%- if is_incremental() %}
    where _sdc_batched_at > (select max(_sdc_batched_at) from {{ this }})
    {%- endif %}
{%- endmacro %}
