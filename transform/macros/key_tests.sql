{#- Rows of the unique and primary_key generic tests (tests/generic/): duplicated keys, counted
    only where no valid unique index on the column already refuses them. -#}
{% macro duplicate_key_rows(model, column_name) %}
    select
        {{ column_name }} as unique_field,
        count(*) as n_records
    from {{ model }}
    where {{ column_name }} is not null
        and not {{ unique_index_exists(model, [column_name]) }}
    group by {{ column_name }}
    having count(*) > 1
{% endmacro %}
