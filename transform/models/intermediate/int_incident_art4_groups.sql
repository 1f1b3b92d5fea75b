-- IR Art. 4 groups: the recurring incidents that "shall be considered collectively as one
-- significant incident", one row per group, with what Art. 23 needs to run its clocks. The
-- group comes to exist when the incident completing it happens, so its awareness is the
-- entity's awareness of the incident that completes it. The group's handling ends when its
-- last member is handled (open while any member is). Submissions for the group are recorded
-- on the completing incident's register row (its early_warning_submitted_at, ...).
with checks as (
    select * from {{ ref('mart_nis2_recurring_incident_check') }}
    where group_id is not null
),

members as (
    select distinct
        c.group_id,
        m.incident_id
    from checks as c
    cross join lateral unnest(string_to_array(c.incident_ids, ';')) as m (incident_id)
),

incidents as (
    select * from {{ ref('int_incidents') }}
),

member_facts as (
    select
        m.group_id,
        string_agg(m.incident_id, ';' order by coalesce(i.started_at, i.detected_at), m.incident_id)
            as member_incident_ids,
        count(*) as member_count,
        case when bool_and(i.handled_at is not null) then max(i.handled_at) end as handled_at,
        min(coalesce(i.started_at, i.detected_at)) as first_occurred_at
    from members as m
    inner join incidents as i on m.incident_id = i.incident_id
    group by m.group_id
),

completing as (
    select
        group_id,
        root_cause_key,
        checked_incident_id as completing_incident_id,
        sum_direct_loss_eur,
        fin_threshold_eur
    from checks
    where completes_group
)

select
    c.group_id,
    c.root_cause_key,
    c.completing_incident_id,
    f.member_incident_ids,
    f.member_count,
    c.sum_direct_loss_eur,
    c.fin_threshold_eur,
    f.first_occurred_at,
    i.aware_at as formed_at,
    f.handled_at,
    i.early_warning_submitted_at,
    i.early_warning_ref,
    i.notification_submitted_at,
    i.notification_ref,
    i.intermediate_requested_at,
    i.intermediate_due_at,
    i.intermediate_submitted_at,
    i.intermediate_ref,
    i.final_report_submitted_at,
    i.final_report_ref,
    i.progress_report_submitted_at,
    i.progress_report_ref
from completing as c
inner join member_facts as f on c.group_id = f.group_id
inner join incidents as i on c.completing_incident_id = i.incident_id
