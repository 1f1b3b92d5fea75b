{#- Typed reading of one raw field for the quarantine (macros/quarantine.sql). Kept apart
    from the macros that call them: these return dicts, and sqlfluff's templater resolves
    `return` only across files. -#}

{% macro raw_column_type(relation, column, default) -%}
    {#- The raw column's data type now; the default while parsing or linting (no database). -#}
    {%- if execute -%}
        {{ return(column_types(relation).get(column)) }}
    {%- endif -%}
    {{ return(default) }}
{%- endmacro %}

{% macro q_timestamp(expr, dtype='text') -%}
    {%- if dtype == 'timestamp without time zone' -%}
        {{ return({'present': '(' ~ expr ~ ' is not null)', 'ok': 'true',
                   'value': '(' ~ expr ~ " at time zone 'UTC')", 'text': 'cast(' ~ expr ~ ' as text)'}) }}
    {%- elif dtype == 'timestamp with time zone' -%}
        {{ return({'present': '(' ~ expr ~ ' is not null)', 'ok': 'true', 'value': expr,
                   'text': 'cast(' ~ expr ~ ' as text)'}) }}
    {%- endif -%}
    {%- set t = 'trim(cast(' ~ expr ~ ' as text))' -%}
    {%- set valid = '(' ~ t ~ ' ~ ' ~ iso_ts_pattern() ~ ' and pg_input_is_valid(' ~ t ~ ", 'timestamptz'))" -%}
    {{ return({
        'present': '(nullif(' ~ t ~ ", '') is not null)",
        'ok': '(nullif(' ~ t ~ ", '') is null or " ~ valid ~ ')',
        'value': 'case when ' ~ valid ~ ' then ' ~ parse_utc(t) ~ ' end',
        'text': t,
    }) }}
{%- endmacro %}

{% macro q_integer(expr, dtype='text') -%}
    {%- if dtype in ('integer', 'smallint') -%}
        {{ return({'present': '(' ~ expr ~ ' is not null)', 'ok': 'true', 'value': expr,
                   'text': 'cast(' ~ expr ~ ' as text)'}) }}
    {%- elif dtype in ('bigint', 'numeric', 'double precision', 'real') -%}
        {%- set in_range = expr ~ ' between -2147483648 and 2147483647' -%}
        {{ return({'present': '(' ~ expr ~ ' is not null)',
                   'ok': '(' ~ expr ~ ' is null or ' ~ in_range ~ ')',
                   'value': 'case when ' ~ in_range ~ ' then cast(' ~ expr ~ ' as integer) end',
                   'text': 'cast(' ~ expr ~ ' as text)'}) }}
    {%- endif -%}
    {%- set t = 'trim(cast(' ~ expr ~ ' as text))' -%}
    {%- set valid = 'pg_input_is_valid(' ~ t ~ ", 'integer')" -%}
    {{ return({
        'present': '(nullif(' ~ t ~ ", '') is not null)",
        'ok': '(nullif(' ~ t ~ ", '') is null or " ~ valid ~ ')',
        'value': 'case when ' ~ valid ~ ' then cast(' ~ t ~ ' as integer) end',
        'text': t,
    }) }}
{%- endmacro %}

{#- Epoch milliseconds (Keycloak's event times) that PostgreSQL can hold: 1970 to 9999. -#}
{% macro epoch_ms_bounds() -%}
    between 0 and 253402300799999
{%- endmacro %}

{% macro q_epoch_ms(expr, dtype='bigint') -%}
    {%- if dtype in ('bigint', 'integer', 'smallint', 'numeric') -%}
        {%- set in_range = expr ~ ' ' ~ epoch_ms_bounds() -%}
        {{ return({'present': '(' ~ expr ~ ' is not null)',
                   'ok': '(' ~ expr ~ ' is null or ' ~ in_range ~ ')',
                   'value': 'case when ' ~ in_range ~ ' then ' ~ epoch_ms_to_utc(expr) ~ ' end',
                   'text': 'cast(' ~ expr ~ ' as text)'}) }}
    {%- endif -%}
    {%- set t = 'trim(cast(' ~ expr ~ ' as text))' -%}
    {%- set valid = 'case when pg_input_is_valid(' ~ t ~ ", 'bigint') then cast(" ~ t
        ~ ' as bigint) ' ~ epoch_ms_bounds() ~ ' else false end' -%}
    {{ return({
        'present': '(nullif(' ~ t ~ ", '') is not null)",
        'ok': '(nullif(' ~ t ~ ", '') is null or " ~ valid ~ ')',
        'value': 'case when ' ~ valid ~ ' then ' ~ epoch_ms_to_utc(t) ~ ' end',
        'text': t,
    }) }}
{%- endmacro %}

{% macro q_json(expr, dtype='text') -%}
    {#- JSON text (Keycloak's details and representations) to jsonb; blank is absent. -#}
    {%- if dtype in ('jsonb', 'json') -%}
        {{ return({'present': '(' ~ expr ~ ' is not null)', 'ok': 'true',
                   'value': 'cast(' ~ expr ~ ' as jsonb)', 'text': 'cast(' ~ expr ~ ' as text)'}) }}
    {%- endif -%}
    {%- set t = 'cast(' ~ expr ~ ' as text)' -%}
    {%- set present = '(nullif(trim(' ~ t ~ "), '') is not null)" -%}
    {{ return({
        'present': present,
        'ok': '(not ' ~ present ~ ' or pg_input_is_valid(' ~ t ~ ", 'jsonb'))",
        'value': 'case when ' ~ present ~ ' and pg_input_is_valid(' ~ t ~ ", 'jsonb') then cast("
            ~ t ~ ' as jsonb) end',
        'text': t,
    }) }}
{%- endmacro %}

{% macro q_json_shape(expr, shape) -%}
    {#- SQL boolean: a jsonb value is absent (SQL or JSON null) or of this shape. -#}
    coalesce(jsonb_typeof({{ expr }}) in ('{{ shape }}', 'null'), true)
{%- endmacro %}

{% macro q_check(field, ok, reason, action, raw_value=none) -%}
    {{ return({'field': field, 'ok': ok, 'reason': reason, 'action': action, 'raw_value': raw_value}) }}
{%- endmacro %}

{% macro quarantine_key(relation, key_column) -%}
    {#- The record's id as text, as staging reads it (raw_fields: any column type). -#}
    {{ return(raw_fields(relation, text_fields=[key_column], json_fields=[])[key_column]) }}
{%- endmacro %}

