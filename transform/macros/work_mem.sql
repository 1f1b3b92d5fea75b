{#- pre-hook for the few models that group or sort every audit-log entry on a full build:
    more memory for this model's transaction only (set local), so PostgreSQL hashes or sorts in
    memory instead of spilling to disk. With the server default (64 MB on the embedded server)
    the API-activity mart sorted 2M rows on disk (13 s) where a hash table does it in 3 s.
    Sized by var model_work_mem (dbt_project.yml); '' leaves the server's setting alone. -#}
{% macro local_work_mem() -%}
    {%- if var('model_work_mem', '') -%}
        set local work_mem = '{{ var('model_work_mem') }}'
    {%- endif -%}
{%- endmacro %}

{#- pre-hook for the staging event facts, which compute a SHA-256 row hash per row: PostgreSQL
    prices handing a row from a parallel worker to the leader as if computing it were cheaper,
    so it read 2M audit-log entries in one process. Lowered for this transaction only, the
    scan and the hashing are shared with workers (alone on 2 cores: 10.1 s to 6.2 s for the
    audit-log staging table, which every later model waits for). -#}
{% macro local_parallel_scan() -%}
    set local parallel_tuple_cost = 0.01
{%- endmacro %}
