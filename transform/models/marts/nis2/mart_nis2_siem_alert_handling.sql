-- M5. Handling of every Wazuh alert at or above the policy level (Annex 3.2.4: a qualified
-- response in a timely manner; 3.4.2(a) triage), judged against the internal triage SLA of its
-- severity band (seed siem_alert_sla_policy). The only triage record in the sources is the
-- incident register: an alert listed in an incident's linked_alert_ids was escalated when the
-- incident was detected. Every other alert is 'untriaged'; no disposition is invented.
with bands as (
    select * from {{ ref('siem_alert_sla_policy') }}
),

alerts as (
    select
        a.alert_id,
        a.rule_id,
        a.rule_level,
        a.rule_description,
        a.agent_name,
        a.event_ts,
        b.severity_band,
        b.triage_sla_minutes
    from {{ ref('stg_wazuh__alerts') }} as a
    inner join bands as b on a.rule_level between b.min_level and b.max_level
    where a.rule_level >= (select min(lowest.min_level) from bands as lowest)
),

escalations as (
    select distinct on (l.alert_id)
        l.alert_id,
        r.incident_id,
        r.detected_at
    from {{ ref('stg_incidents__incident_register') }} as r
    cross join lateral unnest(string_to_array(r.linked_alert_ids, ';')) as l (alert_id)
    where r.detected_at is not null
    order by l.alert_id, r.detected_at, r.incident_id
),

handled as (
    select
        a.*,
        e.incident_id as escalated_incident_id,
        e.detected_at as triaged_at,
        -- an incident already open when the alert fired triaged it on arrival
        case
            when e.detected_at is not null
                then greatest(0, extract(epoch from (e.detected_at - a.event_ts)) / 60)
        end as ttt_min,
        extract(epoch from ({{ as_of() }} - a.event_ts)) / 60 as open_min
    from alerts as a
    left join escalations as e on a.alert_id = e.alert_id
)

select
    alert_id,
    rule_id,
    rule_level,
    rule_description,
    severity_band,
    agent_name as asset_id,
    event_ts as first_seen_at,
    triaged_at,
    escalated_incident_id,
    case when escalated_incident_id is not null then 'escalated' else 'untriaged' end
        as disposition,
    round(cast(ttt_min as numeric), 1) as ttt_min,
    triage_sla_minutes,
    case
        when escalated_incident_id is not null then ttt_min > triage_sla_minutes
        else open_min > triage_sla_minutes
    end as sla_breached
from handled
