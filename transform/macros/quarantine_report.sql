{#- The build output names every rejected record (issue 16): after a run that built
    int_ingest_rejects, up to 20 lines per source, newest load first, as
    "source/stream/record_key/field: reason (action)", then how many more. Never a value:
    keys are ids (a blank id is replaced by the row's MD5), fields and reasons are fixed
    words. on-run-end hook (dbt_project.yml). -#}
{% macro report_ingest_rejects(results) %}
    {%- set built = [] -%}
    {%- if execute -%}
        {%- for r in results
            if r.node.name == 'int_ingest_rejects' and r.status | string == 'success' -%}
            {%- do built.append(r) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if built -%}
        {#- the node's own relation name: ref() in a hook would be a dependency dbt refuses -#}
        {%- set relation = built[0].node.relation_name -%}
        {%- set rows = run_query(
            "select r.source, r.stream, r.record_key, r.field, r.reason, r.action, n.n_source,"
            ~ " n.n_records, r.rn from (select *, row_number() over (partition by source"
            ~ " order by loaded_at desc, stream, record_key, field) as rn from " ~ relation
            ~ ") as r inner join (select source, count(*) as n_source,"
            ~ " count(distinct stream || '/' || record_key) as n_records from " ~ relation
            ~ " group by source) as n on r.source = n.source"
            ~ " where r.rn <= 20 order by r.source, r.rn"
        ) -%}
        {%- for row in rows -%}
            {%- if row['rn'] == 1 -%}
                {{ log('Ingest rejects from ' ~ row['source'] ~ ': ' ~ row['n_source']
                    ~ ' field(s) of ' ~ row['n_records']
                    ~ ' record(s) could not be typed (listed in ' ~ relation ~ ')', info=true) }}
            {%- endif -%}
            {{ log('  ' ~ row['source'] ~ '/' ~ row['stream'] ~ '/' ~ row['record_key'] ~ '/'
                ~ row['field'] ~ ': ' ~ row['reason'] ~ ' (' ~ row['action'] ~ ')', info=true) }}
            {%- if row['rn'] == 20 and row['n_source'] > 20 -%}
                {{ log('  ... and ' ~ (row['n_source'] - 20) ~ ' more from ' ~ row['source'],
                    info=true) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}

{#- A warn-severity test that fails with one row per reject, so a build with rejects ends
    with WARN=1 (the hook above names them). -#}
{% test no_ingest_rejects(model) %}
    select
        source,
        stream,
        record_key,
        field
    from {{ model }}
{% endtest %}
