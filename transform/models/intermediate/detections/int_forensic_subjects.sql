-- Whom and when the forensic timeline covers (Annex 3.5.4): each correlated finding (its
-- address or person, from one correlation window before its first finding to one after its
-- last) and each incident of the register (every address and person a detection names inside
-- the incident's window: from an hour before its first linked alert or detection to its
-- containment, else resolution, else a day after detection; at most three days). Pseudonyms.
{% set sp = "select cast(value as numeric) from " ~ ref('siem_detection_policy') ~ " where policy_code = " %}
with params as (
    select make_interval(mins => cast(({{ sp }}'CORRELATION_WINDOW_MINUTES') as integer)) as win
),

correlations as (
    select
        'correlation' as subject_type,
        c.correlation_id as subject_id,
        c.key_type,
        c.subject_key,
        c.first_at - p.win as window_start,
        c.last_at + p.win as window_end
    from {{ ref('mart_nis2_correlated_findings') }} as c
    cross join params as p
),

incidents as (
    select
        incident_id,
        coalesce(least(first_linked_alert_at, detected_at), detected_at) - interval '1 hour'
            as window_start,
        least(
            coalesce(contained_at, resolved_at, detected_at + interval '1 day'),
            coalesce(least(first_linked_alert_at, detected_at), detected_at) + interval '3 days'
        ) as window_end
    from {{ ref('int_incidents') }}
    where detected_at is not null
),

keys as (
    select
        src_ip_key as address_key,
        principal_key as person_key,
        window_start,
        window_end
    from {{ ref('mart_nis2_auth_failure_detections') }}
    union all
    select
        src_ip_key,
        account_key,
        window_start,
        window_end
    from {{ ref('mart_nis2_siem_detections') }}
    union all
    select
        src_ip_key,
        target_key,
        event_ts as window_start,
        event_ts as window_end
    from {{ ref('mart_nis2_iam_admin_detections') }}
    where is_finding
),

incident_subjects as (
    select distinct
        'incident' as subject_type,
        i.incident_id as subject_id,
        s.key_type,
        s.subject_key,
        i.window_start,
        i.window_end
    from incidents as i
    inner join keys as k on i.window_end >= k.window_start and i.window_start <= k.window_end
    cross join
        lateral (
            values ('address', k.address_key), ('person', k.person_key)
        ) as s (key_type, subject_key)
    where s.subject_key is not null
)

select
    s.*,
    -- a person's every alias (e-mail, username, user id, Wazuh and Windows names)
    case when s.key_type = 'person' then (
            select array_agg(m.alias_key) from {{ ref('int_identity_map') }} as m
            where m.identity_key = s.subject_key
        )
    end as alias_keys
from (
    select * from correlations
    union all
    select * from incident_subjects
) as s
