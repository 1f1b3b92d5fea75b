{#- Incremental filter on load time (not event time), so late-arriving events are kept.
    Staging keeps the loader's _sdc_batched_at unchanged so the comparison needs no parsing.
    Strictly newer than the last batch already taken: every batch target-postgres commits gets
    its own _sdc_batched_at, and ">=" re-read the whole last batch on every run (after a
    one-batch backfill: the whole table). Re-reading would be harmless (upsert on the key), only
    slow. -#}
{% macro loaded_since_last_run() -%}
    {#- In a run the last batch taken is looked up first (through the index on loaded_at) and
        written in as a literal, which the raw table's load-time index (raw_load_time_index)
        answers; against a subquery the planner expected a third of the table and scanned it. -#}
    {%- if is_incremental() and execute %}
        {%- set last = run_query(
            "select cast(_sdc_batched_at as text) from " ~ this
            ~ " where loaded_at is not null order by loaded_at desc limit 1"
        ) -%}
        {%- if last.rows | length > 0 %}
    where _sdc_batched_at > '{{ last.columns[0].values()[0] }}'
        {%- endif %}
    {%- elif is_incremental() %}
    where _sdc_batched_at > (select max(_sdc_batched_at) from {{ this }})
    {%- endif %}
{%- endmacro %}

{#- Watermarks for incremental marts whose own columns do not carry a load time (their
    columns are fixed by the contract with report/): how far their input was read, kept in
    <schema>_util.build_watermarks and written by a post-hook in the same transaction as the
    model, so a crash leaves both at the previous build. -#}
{% macro watermark_table() -%}
    {{ target.schema }}_util.build_watermarks
{%- endmacro %}

{% macro create_watermark_table() %}
    create schema if not exists {{ target.schema }}_util;
    create table if not exists {{ watermark_table() }} (
        model text primary key,
        loaded_through timestamptz not null
    );
{% endmacro %}

{% macro loaded_after_watermark(column='loaded_at', name=none) -%}
    {#- True for input rows loaded after the last build of this model read its input; name
        tells apart the inputs of a model that reads several. In an incremental build the
        watermark is read when the model is compiled and written into the query as a
        constant: against a subquery the planner expects a third of the input and scans it
        whole; against the constant it sees the few new rows and uses the load-time index. -#}
    {%- set name = name or this.identifier -%}
    {%- if execute and is_incremental() -%}
        {%- set found = run_query(
            "select coalesce((select cast(w.loaded_through as text) from " ~ watermark_table()
            ~ " as w where w.model = '" ~ name ~ "'), '-infinity')"
        ) -%}
        {{ column }} > cast('{{ found.columns[0].values()[0] }}' as timestamptz)
    {%- else -%}
        {{ column }} > coalesce(
            (
                select w.loaded_through from {{ watermark_table() }} as w
                where w.model = '{{ name }}'
            ),
            '-infinity'
        )
    {%- endif -%}
{%- endmacro %}

{% macro reset_watermark_on_full_build() -%}
    {#- pre-hook: a build from scratch reads all input, whatever an earlier table had seen -#}
    {%- if not is_incremental() -%}
        delete from {{ watermark_table() }}
        where model = '{{ this.identifier }}' or model like '{{ this.identifier }}:%'
    {%- endif -%}
{%- endmacro %}

{% macro save_watermark(input_relation, column='loaded_at', name=none) %}
    {#- post-hook: only rows after the old watermark are read, which an index on the load time
        (BRIN or btree) answers without scanning the whole input -#}
    {%- set name = name or this.identifier -%}
    insert into {{ watermark_table() }} (model, loaded_through)
    select
        '{{ name }}',
        coalesce(
            (
                select max(i.{{ column }}) from {{ input_relation }} as i
                where {{ loaded_after_watermark('i.' ~ column, name) }}
            ),
            (
                select w.loaded_through from {{ watermark_table() }} as w
                where w.model = '{{ name }}'
            ),
            '-infinity'
        )
    on conflict (model) do update set loaded_through = excluded.loaded_through
{% endmacro %}

{% macro incremental_by_day_config(input_model) %}
    {#- Day-grain marts rebuilt only for the days their input changed: delete+insert on day
        replaces every row of a recomputed day, so a group that vanished does not linger. -#}
    {{ config(
        materialized='incremental',
        unique_key='day',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['day']}],
        pre_hook=["{{ reset_watermark_on_full_build() }}", "{{ local_work_mem() }}"],
        post_hook=["{{ save_watermark(ref('" ~ input_model ~ "')) }}"]
    ) }}
{% endmacro %}

{% macro event_restart_points(events_relation) %}
    {#- Per source with events loaded since the last build: where recomputing must start. That
        is the event just before the earliest new one (its gap to the next event changed), or
        the earliest new one when nothing came before. -#}
    select
        c.source_system,
        c.asset_id,
        coalesce((
            -- the source system prunes the other branches of the unified view
            select max(p.event_ts) from {{ events_relation }} as p
            where p.source_system = c.source_system
                and p.asset_id = c.asset_id and p.event_ts < c.first_new_ts
        ), c.first_new_ts) as restart_ts
    from (
        select
            e.source_system,
            e.asset_id,
            min(e.event_ts) as first_new_ts
        from {{ events_relation }} as e
        where {{ loaded_after_watermark('e.loaded_at') }}
        group by e.source_system, e.asset_id
    ) as c
{% endmacro %}
