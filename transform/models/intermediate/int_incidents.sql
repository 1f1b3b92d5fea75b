-- Incidents from the register with their linked SIEM alerts and a timeline (Annex 3.5.4):
-- the conservative derived awareness is the earliest of detection and the first linked alert.
with register as (
    select * from {{ ref('stg_incidents__incident_register') }}
),

links as (
    select
        r.incident_id,
        count(a.alert_id) as linked_alert_count,
        min(a.event_ts) as first_linked_alert_at
    from register as r
    cross join lateral unnest(string_to_array(r.linked_alert_ids, ';')) as l (alert_id)
    left join {{ ref('stg_wazuh__alerts') }} as a on l.alert_id = a.alert_id
    group by r.incident_id
),

timeline as (
    select
        r.incident_id,
        jsonb_agg(
            jsonb_build_object('at', m.at, 'milestone', m.milestone) order by m.at, m.milestone
        ) filter (where m.at is not null) as timeline
    from register as r
    cross join
        lateral (
            values
            (r.detected_at, 'detected'),
            (r.aware_at, 'aware'),
            (r.early_warning_submitted_at, 'early_warning_submitted'),
            (r.notification_submitted_at, 'notification_submitted'),
            (r.contained_at, 'contained'),
            (r.resolved_at, 'resolved'),
            (r.progress_report_submitted_at, 'progress_report_submitted'),
            (r.final_report_submitted_at, 'final_report_submitted')
        ) as m (at, milestone)
    group by r.incident_id
)

select
    r.*,
    coalesce(l.linked_alert_count, 0) as linked_alert_count,
    l.first_linked_alert_at,
    least(r.detected_at, l.first_linked_alert_at) as aware_at_derived,
    r.resolved_at as handled_at,
    coalesce(t.timeline, '[]'::jsonb) as timeline
from register as r
left join links as l on r.incident_id = l.incident_id
left join timeline as t on r.incident_id = t.incident_id
