{#- Planner help for a build on millions of rows. Tables dbt has just created carry no
    statistics until autovacuum gets to them, so the planner guesses one row per CTE and picks
    nested loops that turn quadratic; analysing each table right after it is built avoids that.
    An incremental table is analysed again only once a tenth of it changed since (autovacuum's
    own rule): sampling a table of millions for a 1 % merge cost more than the merge. -#}

{% macro analyze_if_table() -%}
    {%- set materialized = config.get('materialized') -%}
    {%- if materialized == 'table' -%}
        analyze {{ this }}
    {%- elif materialized == 'incremental' -%}
        do $analyze$ begin
            if not exists (
                select 1 from pg_stat_user_tables as s
                where s.relid = to_regclass(
                        quote_ident('{{ this.schema }}') || '.' || quote_ident('{{ this.identifier }}')
                    )
                    and coalesce(s.last_analyze, s.last_autoanalyze) is not null
                    and s.n_mod_since_analyze < 0.1 * greatest(s.n_live_tup, 1000)
            ) then
                analyze {{ this }};
            end if;
        end $analyze$
    {%- endif -%}
{%- endmacro %}
