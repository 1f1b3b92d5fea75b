{#- Planner help for a build on millions of rows. Tables dbt has just created carry no
    statistics until autovacuum gets to them, so the planner guesses one row per CTE and picks
    nested loops that turn quadratic; analysing each table right after it is built avoids that. -#}

{% macro analyze_if_table() -%}
    {%- if config.get('materialized') in ('table', 'incremental') -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
