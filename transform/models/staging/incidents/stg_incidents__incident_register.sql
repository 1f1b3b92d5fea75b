-- The incident register (Annex 3.5.4 ticket fields; the facts of IR 2024/2690 Arts. 3-14 and
-- of the CSIRTs' notification forms), typed. Malformed cells become null and are named in
-- invalid_fields; stg_incidents__incident_register_rejects lists them, and the rows without an
-- incident_id, which are left out here. The typed columns by kind: incident_register_fields().
{%- set f = incident_register_fields() %}
with source as (
    select * from {{ source('incidents', 'incident_register') }}
),

latest as (
    select
        *,
        row_number() over (partition by trim(cast(incident_id as text)) order by _sdc_batched_at desc)
            as version_rank
    from source
    where nullif(trim(cast(incident_id as text)), '') is not null
)

select
    trim(cast(incident_id as text)) as incident_id,
    {%- for name in ['title', 'description', 'root_cause_key', 'root_cause', 'mitigation_measures',
                     'early_warning_ref', 'notification_ref', 'intermediate_ref',
                     'final_report_ref', 'progress_report_ref'] %}
        nullif(trim(cast({{ name }} as text)), '') as {{ name }},
    {%- endfor %}
    {%- for name in ['category', 'severity', 'status'] %}
        lower(nullif(trim(cast({{ name }} as text)), '')) as {{ name }},
    {%- endfor %}
    -- ';'-separated lists, blanks and spaces around items dropped
    {%- for name in ['affected_services', 'affected_assets', 'affected_member_states', 'iocs'] %}
        nullif(
            array_to_string(
                array_remove(
                    array(select trim(x) from unnest(string_to_array(cast({{ name }} as text), ';')) as x),
                    ''
                ),
                ';'
            ),
            ''
        ) as {{ name }},
    {%- endfor %}
    {%- for name, allowed in f.choice.items() %}
        -- {{ name }}: {{ allowed | join(', ') }}; blank reads as unknown where allowed, else null
        case
            when lower(trim(cast({{ name }} as text))) in ('{{ allowed | join("', '") }}')
                then lower(trim(cast({{ name }} as text)))
            {%- if 'unknown' in allowed %}
                else 'unknown'
            {%- endif %}
        end as {{ name }},
    {%- endfor %}
    {%- for name in f.ts %}
        {{ try_parse_utc('cast(' ~ name ~ ' as text)') }} as {{ name }},
    {%- endfor %}
    {%- for name in f.num %}
        {{ try_numeric('cast(' ~ name ~ ' as text)') }} as {{ name }},
    {%- endfor %}
    {%- for name in f.bool %}
        coalesce({{ try_boolean('cast(' ~ name ~ ' as text)') }}, false) as {{ name }},
    {%- endfor %}
    {%- for name in f.tribool %}
        {{ try_boolean('cast(' ~ name ~ ' as text)') }} as {{ name }},
    {%- endfor %}
    nullif(trim(both ';' from replace(cast(linked_alert_ids as text), ' ', '')), '')
        as linked_alert_ids,
    concat_ws(
        ', ',
        {%- for name in f.ts %}
            {{ invalid_if('cast(' ~ name ~ ' as text)', 'ts', name) }},
        {%- endfor %}
        {%- for name in f.num %}
            {{ invalid_if('cast(' ~ name ~ ' as text)', 'num', name) }},
        {%- endfor %}
        {%- for name in f.bool + f.tribool %}
            {{ invalid_if('cast(' ~ name ~ ' as text)', 'bool', name) }},
        {%- endfor %}
        {%- for name, allowed in f.choice.items() %}
            case when lower(trim(cast({{ name }} as text))) not in ('{{ allowed | join("', '") }}', '')
                    then '{{ name }}'
            end{% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as invalid_fields,
    {{ parse_utc('_sdc_batched_at') }} as loaded_at
from latest
where version_rank = 1
