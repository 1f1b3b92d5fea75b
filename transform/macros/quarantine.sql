{#- Quarantine in staging (issue 16): a raw record whose field cannot be typed never stops the
    build. Each typed field is described by a check, a dict:
      field     the raw field's name as the source spells it ('timestamp', 'rule.level')
      ok        SQL boolean, never null: true when the field is absent or can be typed
      reason    plain words ('not an ISO 8601 timestamp')
      action    'rejected' (the record cannot be placed: its key or event time; it is left out
                of staging) or 'field_nulled' (the record is kept with this field null)
      raw_value SQL text of the bad value, only for fields that carry no personal data, else none
    Staging keeps the records whose 'rejected' checks hold (quarantine_kept) and types each
    field only when its check holds; the source's rejects model lists one row per failed check
    (quarantine_rejects). The q_* helpers (quarantine_fields.sql) return {'present', 'ok',
    'value', 'text'} for one raw expression, chosen at compile time by the column's type: a
    column the loader already typed costs no check at all. -#}

{% macro quarantine_kept(checks) -%}
    {#- SQL boolean: no 'rejected' check fails (the record reaches staging). -#}
    {%- set parts = [] -%}
    {%- for c in checks if c.action == 'rejected' and c.ok != 'true' -%}
        {%- do parts.append('(' ~ c.ok ~ ')') -%}
    {%- endfor -%}
    {{ parts | join(' and ') if parts else 'true' }}
{%- endmacro %}

{% macro quarantine_clean(checks) -%}
    {#- SQL boolean: every check holds (the record has no rejects row). -#}
    {%- set parts = [] -%}
    {%- for c in checks if c.ok != 'true' -%}
        {%- do parts.append('(' ~ c.ok ~ ')') -%}
    {%- endfor -%}
    {{ parts | join(' and ') if parts else 'true' }}
{%- endmacro %}

{#- record_key of a record whose key is unusable (blank, or failing the key's own check):
    'row-md5:' and the MD5 of the raw row without the loader's columns, stable from build to
    build and when the record is re-sent, and naming nothing personal. -#}
{% macro quarantine_record_key(key_expr, row_alias, usable='true') -%}
    case
        when {{ usable }} and nullif(trim(cast({{ key_expr }} as text)), '') is not null
            then trim(cast({{ key_expr }} as text))
        else 'row-md5:' || md5(cast(to_jsonb({{ row_alias }}) - {{ loader_columns() }} as text))
    end
{%- endmacro %}

{% macro loader_columns() -%}
    {#- the loaders' own columns: a record re-sent keeps its row-md5 -#}
    cast('{_sdc_extracted_at,_sdc_received_at,_sdc_batched_at,_sdc_deleted_at,_sdc_sequence,_sdc_table_version,_sdc_sync_started_at,_sdc_last_modified,_sdc_filename,_sdc_stream,_sdc_worksheet}' as text[])
{%- endmacro %}

{% macro quarantine_key_usable(checks, key_column) -%}
    {#- SQL boolean: the 'rejected' checks of the key field hold -#}
    {%- set parts = [] -%}
    {%- for c in checks if c.field == key_column and c.action == 'rejected' -%}
        {%- do parts.append('(' ~ c.ok ~ ')') -%}
    {%- endfor -%}
    {{ parts | join(' and ') if parts else 'true' }}
{%- endmacro %}

{% macro quarantine_rejects(source_name, stream, relation, key_column, checks) %}
    {#- One row per failed check of the raw records in this build's load window (all of them
        in a full build; see quarantine_window), in the interface of every rejects model:
        source, stream, record_key, field, reason, raw_value, action, loaded_at. All rows of a
        rejected record say 'rejected'. Only the latest version of a key counts, as in
        staging. -#}
    {%- set one_version = key_is_unique(relation, [key_column]) | trim == 'true' -%}
    {%- set key_expr = quarantine_key(relation, key_column) -%}
    {%- set live = [] -%}
    {%- for c in checks if c.ok != 'true' -%}{%- do live.append(c) -%}{%- endfor %}
    select
        cast('{{ source_name }}' as text) as source,
        cast('{{ stream }}' as text) as stream,
        b.record_key,
        cast(c.field as text) as field,
        cast(c.reason as text) as reason,
        cast(c.raw_value as text) as raw_value,
        cast(case when b.is_rejected then 'rejected' else c.action end as text) as action,
        b.loaded_at
    from (
        select
            r.*,
            not({{ quarantine_kept(live) }}) as is_rejected,
            {{ column_to_utc(relation, '_sdc_batched_at') }} as loaded_at
        from (
            select
                s.*,
                {{ quarantine_record_key(key_expr, 's', quarantine_key_usable(checks, key_column)) }}
                    as record_key
                {%- if not one_version %},
                    row_number() over (
                        partition by {{ key_expr }} order by s._sdc_batched_at desc
                    ) as version_rank
                {%- endif %}
            from {{ relation }} as s
            where {{ quarantine_window(relation, stream) }}
        ) as r
        where not ({{ quarantine_clean(live) }})
            {%- if not one_version %} and r.version_rank = 1{% endif %}
    ) as b
    cross join lateral (
        values
        {%- for c in live %}
            (
                '{{ c.field }}', '{{ c.reason }}',
                {{ 'cast(left(' ~ c.raw_value ~ ', 100) as text)' if c.raw_value else 'cast(null as text)' }},
                '{{ c.action }}', {{ c.ok }}
            ){{ ',' if not loop.last }}
        {%- endfor %}
        {%- if not live %}
            (cast(null as text), cast(null as text), cast(null as text), cast(null as text), true)
        {%- endif %}
    ) as c (field, reason, raw_value, action, ok)
    where not c.ok
{% endmacro %}

{#- Incremental rejects models read the raw rows loaded since they last read the same raw
    table (a watermark per stream in <schema>_util.build_watermarks, named
    '<model>:<stream>'), written into the query as a literal of the column's own type so the
    raw table's load-time index answers it. Like the staging facts, this assumes no load
    commits while dbt builds (the job runs them one after another). -#}
{% macro quarantine_window(relation, stream) -%}
    {%- set dtype = raw_column_type(relation, '_sdc_batched_at', 'timestamp without time zone') -%}
    {%- set name = this.identifier ~ ':' ~ stream -%}
    {%- if execute and is_incremental()
        and dtype in ('timestamp without time zone', 'timestamp with time zone') -%}
        {%- set as_raw = 'w.loaded_through'
            ~ (" at time zone 'UTC'" if dtype == 'timestamp without time zone' else '') -%}
        {%- set found = run_query(
            "select cast(" ~ as_raw ~ " as text) from " ~ watermark_table()
            ~ " as w where w.model = '" ~ name ~ "'"
        ) -%}
        {%- if found.rows | length > 0 -%}
            _sdc_batched_at > '{{ found.columns[0].values()[0] }}'
        {%- else -%}
            true
        {%- endif -%}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{% macro quarantine_forget_reread(relation, stream, key_column) -%}
    {#- pre-hook of an incremental build: a record loaded again (re-sent, or fixed at the
        source) replaces its rejects rows, or loses them when it is now clean -#}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where stream = '{{ stream }}' and record_key in (
            -- the key as the record's rows name it, usable or not
            select trim(cast({{ quarantine_key(relation, key_column) }} as text))
            from {{ relation }}
            where {{ quarantine_window(relation, stream) }}
            union all
            -- a key no source id can be (blank, or a JSON object or array)
            select {{ quarantine_record_key(quarantine_key(relation, key_column), 's', 'false') }}
            from {{ relation }} as s
            where {{ quarantine_window(relation, stream) }}
                and coalesce(left(trim(cast({{ quarantine_key(relation, key_column) }} as text)), 1)
                    in ('', '{', '['), true)
        )
    {%- endif -%}
{%- endmacro %}

{% macro quarantine_save_window(relation, stream) -%}
    {#- post-hook: how far this model has read the raw table, in the same transaction -#}
    insert into {{ watermark_table() }} (model, loaded_through)
    select
        '{{ this.identifier }}:{{ stream }}',
        max({{ column_to_utc(relation, '_sdc_batched_at') }})
    from {{ relation }}
    where {{ quarantine_window(relation, stream) }}
    having max(_sdc_batched_at) is not null
    on conflict (model) do update set loaded_through = excluded.loaded_through
{%- endmacro %}

{% macro rejects_config(streams) %}
    {#- An incremental rejects model over raw tables. streams: list of
        [source_name, table_name, key_column]. -#}
    {%- set pre = ["{{ reset_watermark_on_full_build() }}"] -%}
    {%- set post = [] -%}
    {%- for source_name, table_name, key_column in streams -%}
        {%- set raw = "source('" ~ source_name ~ "', '" ~ table_name ~ "')" -%}
        {%- do pre.append("{{ quarantine_forget_reread(" ~ raw ~ ", '" ~ table_name ~ "', '" ~ key_column ~ "') }}") -%}
        {%- do post.append("{{ quarantine_save_window(" ~ raw ~ ", '" ~ table_name ~ "') }}") -%}
    {%- endfor -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=pre,
        post_hook=post
    ) }}
{% endmacro %}
