{#- Tolerant casts for hand-kept registers (all text): a malformed value becomes null and is
    reported in the model's invalid_fields column, so one bad cell does not stop the build. -#}

{% macro iso_ts_pattern() -%}
    '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|z|[+-]\d{2}(:?\d{2})?)?$'
{%- endmacro %}

{% macro try_parse_utc(expr) -%}
    {#- the pattern alone let '2026-02-30' through to a cast that fails -#}
    case when trim({{ expr }}) ~ {{ iso_ts_pattern() }} and pg_input_is_valid(trim({{ expr }}), 'timestamptz')
            then {{ parse_utc('trim(' ~ expr ~ ')') }} end
{%- endmacro %}

{% macro try_numeric(expr) -%}
    case when trim({{ expr }}) ~ '^-?\d+(\.\d+)?$' then cast(trim({{ expr }}) as numeric) end
{%- endmacro %}

{% macro try_boolean(expr) -%}
    case
        when lower(trim({{ expr }})) in ('true', 't', 'yes', 'y', '1') then true
        when lower(trim({{ expr }})) in ('false', 'f', 'no', 'n', '0') then false
    end
{%- endmacro %}

{% macro invalid_if(expr, kind, label) -%}
    {#- Returns label when expr is non-empty but does not parse as kind, else null. -#}
    case
        when nullif(trim({{ expr }}), '') is null then null
        {% if kind == 'ts' -%}
        when trim({{ expr }}) !~ {{ iso_ts_pattern() }}
            or not pg_input_is_valid(trim({{ expr }}), 'timestamptz') then '{{ label }}'
        {%- elif kind == 'num' -%}
        when trim({{ expr }}) !~ '^-?\d+(\.\d+)?$' then '{{ label }}'
        {%- elif kind == 'bool' -%}
        when lower(trim({{ expr }})) not in ('true', 't', 'yes', 'y', '1', 'false', 'f', 'no', 'n', '0')
            then '{{ label }}'
        {%- endif %}
    end
{%- endmacro %}
