{% macro raw_fields(relation, text_fields, json_fields) -%}
    {#- SQL for each named field of a raw table whose columns follow the data the loader has
        seen (tap-jsonl adds a column with the first record that has the field): the column
        itself when it exists, null when it does not. Each expression renders exactly what
        `to_jsonb(row) ->> 'field'` (text_fields) or `to_jsonb(row) -> 'field'` (json_fields)
        gave, whatever the column's type, so row hashes do not depend on the route. Reading
        the columns directly took 0.75 s for 200k alerts; turning every row into jsonb first
        took 4.6 s. Returns a dict: field name -> SQL expression. -#}
    {%- set types = column_types(relation) if execute else {} -%}
    {%- if not execute -%}
        {#- parsing and linting: no database, render as if every column were there -#}
        {%- for name in text_fields -%}{%- do types.update({name: 'text'}) -%}{%- endfor -%}
        {%- for name in json_fields -%}{%- do types.update({name: 'jsonb'}) -%}{%- endfor -%}
    {%- endif -%}
    {%- set fields = {} -%}
    {%- for name in text_fields -%}
        {%- set dtype = types.get(name) -%}
        {%- set column = '"' ~ name ~ '"' -%}
        {%- if dtype is none -%}
            {%- do fields.update({name: 'cast(null as text)'}) -%}
        {%- elif dtype == 'text' or dtype.startswith('character varying') -%}
            {%- do fields.update({name: 'cast(' ~ column ~ ' as text)'}) -%}
        {%- else -%}
            {%- do fields.update({name: '(to_jsonb(' ~ column ~ ") #>> '{}')"}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for name in json_fields -%}
        {%- set dtype = types.get(name) -%}
        {%- set column = '"' ~ name ~ '"' -%}
        {%- if dtype is none -%}
            {%- do fields.update({name: 'cast(null as jsonb)'}) -%}
        {%- else -%}
            {#- a present column holding SQL null was a JSON null in the row's jsonb -#}
            {%- set value = column if dtype == 'jsonb'
                else 'to_jsonb(' ~ column ~ ')' -%}
            {%- do fields.update({name: 'coalesce(' ~ value ~ ", cast('null' as jsonb))"}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(fields) }}
{%- endmacro %}

{% macro wazuh_alert_fields(relation) -%}
    {#- The Wazuh alert fields staging and the log-integrity verification read. -#}
    {{ return(raw_fields(
        relation,
        text_fields=['id', 'timestamp', 'location'],
        json_fields=['rule', 'agent', 'data', 'decoder']
    )) }}
{%- endmacro %}
