{#- Time handling: everything becomes timestamptz in UTC, whatever type the loader chose. -#}

{% macro parse_utc(expr) -%}
    {#- Text with an offset or Z keeps it; a bare timestamp (as target-postgres stores
        date-time fields) is UTC wall time. Casting through text makes this work for
        text, timestamp and timestamptz columns alike. -#}
    (case
        when nullif(trim(cast({{ expr }} as text)), '') is null then null
        when cast({{ expr }} as text) ~ '(Z|z|[+-]\d{2}(:?\d{2})?)$'
            then cast(cast({{ expr }} as text) as timestamptz)
        else cast(cast({{ expr }} as text) as timestamp) at time zone 'UTC'
    end)
{%- endmacro %}

{% macro epoch_ms_to_utc(expr) -%}
    {#- Keycloak stores event times as epoch milliseconds (bigint). -#}
    to_timestamp(cast({{ expr }} as bigint) / 1000.0)
{%- endmacro %}

{% macro as_of() -%}
    {#- The reference instant for "open" deadlines and dormancy: var as_of or now(). -#}
    {%- if var('as_of', '') -%}
        cast('{{ var("as_of") }}' as timestamptz)
    {%- else -%}
        now()
    {%- endif -%}
{%- endmacro %}

{% macro column_to_utc(relation, column_name, quoted_name=none) -%}
    {#- Like parse_utc, but looks the column's type up at compile time: a loader timestamp
        needs no text parsing, which matters on millions of rows. -#}
    {%- set expr = quoted_name or column_name -%}
    {%- set data_type = column_types(relation).get(column_name) if execute else none -%}
    {%- if data_type == 'timestamp without time zone' -%}
        ({{ expr }} at time zone 'UTC')
    {%- elif data_type == 'timestamp with time zone' -%}
        {{ expr }}
    {%- else -%}
        {{ parse_utc(expr) }}
    {%- endif -%}
{%- endmacro %}

{% macro column_types(relation) -%}
    {#- The columns of a table as it is now: name -> data type (lower case). -#}
    {%- set types = {} -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- do types.update({column.name: column.data_type | lower}) -%}
    {%- endfor -%}
    {{ return(types) }}
{%- endmacro %}
