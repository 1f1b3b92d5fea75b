{#- Whether a request path is administrative (seed admin_paths, Annex 3.2.3(e), 11.4). Each
    pattern is matched on its own with "~ any": one alternation of all patterns made
    PostgreSQL's regex engine ten times slower (measured on 44k writes: 2.9 s against 0.27 s). -#}
{% macro is_admin_path(path_expr, source_system='didit') -%}
    {{ path_expr }} ~ any(array(
        select p.path_pattern from {{ ref('admin_paths') }} as p
        where p.source_system = '{{ source_system }}'
    ))
{%- endmacro %}
