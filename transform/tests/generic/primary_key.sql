{#- A key: never null and never repeated. One test node instead of not_null plus unique (dbt
    spends about 50 ms on every node, whatever it reads; 49 keys). Duplicates are counted as in
    the project's unique test (not at all where a valid unique index refuses them); nulls are
    always counted. -#}
{% test primary_key(model, column_name) %}
    select
        'null key' as problem,
        count(*) as n_records
    from {{ model }}
    where {{ column_name }} is null
    having count(*) > 0
    union all
    select
        'duplicate key' as problem,
        d.n_records
    from ({{ duplicate_key_rows(model, column_name) }}) as d
{% endtest %}
