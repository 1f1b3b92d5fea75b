-- The incident register (Annex 3.5.4 ticket fields), typed. Malformed cells become null and
-- are named in invalid_fields; stg_incidents__incident_register_rejects lists them, and the
-- rows without an incident_id, which are left out here.
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
    nullif(trim(cast(title as text)), '') as title,
    lower(nullif(trim(cast(category as text)), '')) as category,
    lower(nullif(trim(cast(severity as text)), '')) as severity,
    lower(nullif(trim(cast(status as text)), '')) as status,
    nullif(trim(cast(root_cause_key as text)), '') as root_cause_key,
    nullif(trim(cast(root_cause as text)), '') as root_cause,
    nullif(trim(cast(early_warning_ref as text)), '') as early_warning_ref,
    nullif(trim(cast(notification_ref as text)), '') as notification_ref,
    nullif(trim(cast(final_report_ref as text)), '') as final_report_ref,
    nullif(trim(cast(progress_report_ref as text)), '') as progress_report_ref,
    -- anything but yes or no (blank, unknown, a typo) reads as unknown
    case
        when lower(trim(cast(suspected_malicious as text))) in ('yes', 'no')
            then lower(trim(cast(suspected_malicious as text)))
        else 'unknown'
    end as suspected_malicious,
    {{ try_parse_utc('cast(detected_at as text)') }} as detected_at,
    {{ try_parse_utc('cast(aware_at as text)') }} as aware_at,
    {{ try_parse_utc('cast(contained_at as text)') }} as contained_at,
    {{ try_parse_utc('cast(resolved_at as text)') }} as resolved_at,
    {{ try_parse_utc('cast(early_warning_submitted_at as text)') }} as early_warning_submitted_at,
    {{ try_parse_utc('cast(notification_submitted_at as text)') }} as notification_submitted_at,
    {{ try_parse_utc('cast(final_report_submitted_at as text)') }} as final_report_submitted_at,
    {{ try_parse_utc('cast(progress_report_submitted_at as text)') }} as progress_report_submitted_at,
    {{ try_parse_utc('cast(updated_at as text)') }} as updated_at,
    {{ try_numeric('cast(estimated_direct_loss_eur as text)') }} as estimated_direct_loss_eur,
    {{ try_numeric('cast(affected_users as text)') }} as affected_users,
    {{ try_numeric('cast(outage_minutes as text)') }} as outage_minutes,
    {{ try_numeric('cast(limited_availability_minutes as text)') }} as limited_availability_minutes,
    coalesce({{ try_boolean('cast(cross_border as text)') }}, false) as cross_border,
    coalesce({{ try_boolean('cast(cia_compromised as text)') }}, false) as cia_compromised,
    coalesce({{ try_boolean('cast(is_planned_maintenance as text)') }}, false) as is_planned_maintenance,
    nullif(trim(both ';' from replace(cast(linked_alert_ids as text), ' ', '')), '')
        as linked_alert_ids,
    concat_ws(
        ', ',
        {{ invalid_if('cast(detected_at as text)', 'ts', 'detected_at') }},
        {{ invalid_if('cast(aware_at as text)', 'ts', 'aware_at') }},
        {{ invalid_if('cast(contained_at as text)', 'ts', 'contained_at') }},
        {{ invalid_if('cast(resolved_at as text)', 'ts', 'resolved_at') }},
        {{ invalid_if('cast(early_warning_submitted_at as text)', 'ts', 'early_warning_submitted_at') }},
        {{ invalid_if('cast(notification_submitted_at as text)', 'ts', 'notification_submitted_at') }},
        {{ invalid_if('cast(final_report_submitted_at as text)', 'ts', 'final_report_submitted_at') }},
        {{ invalid_if('cast(progress_report_submitted_at as text)', 'ts', 'progress_report_submitted_at') }},
        {{ invalid_if('cast(updated_at as text)', 'ts', 'updated_at') }},
        {{ invalid_if('cast(estimated_direct_loss_eur as text)', 'num', 'estimated_direct_loss_eur') }},
        {{ invalid_if('cast(affected_users as text)', 'num', 'affected_users') }},
        {{ invalid_if('cast(outage_minutes as text)', 'num', 'outage_minutes') }},
        {{ invalid_if('cast(limited_availability_minutes as text)', 'num', 'limited_availability_minutes') }},
        {{ invalid_if('cast(cross_border as text)', 'bool', 'cross_border') }},
        {{ invalid_if('cast(cia_compromised as text)', 'bool', 'cia_compromised') }},
        {{ invalid_if('cast(is_planned_maintenance as text)', 'bool', 'is_planned_maintenance') }},
        case when lower(trim(cast(suspected_malicious as text))) not in ('yes', 'no', 'unknown', '')
                then 'suspected_malicious'
        end
    ) as invalid_fields,
    {{ parse_utc('_sdc_batched_at') }} as loaded_at
from latest
where version_rank = 1
