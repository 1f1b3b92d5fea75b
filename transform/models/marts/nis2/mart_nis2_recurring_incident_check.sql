-- IR Art. 4: incidents that are not significant individually, with the same apparent root
-- cause, that occurred at least twice within 6 months and together meet Art. 3(1)(a), are
-- collectively one significant incident. The windows roll with the incidents (no calendar
-- alignment): one check per incident over the 6 months up to it (both ends included: "within").
-- A group comes to exist at the incident whose window first meets Art. 4 (completes_group);
-- later incidents whose windows keep meeting it join that group (int_incident_art4_groups gives
-- it Art. 23 stages). Annex 3.4.2(b)'s quarterly assessment is the cadence of this check.
with candidates as (
    -- not significant on their own: no criterion met and not decided significant; planned
    -- maintenance is no incident to count (Art. 3(2))
    select
        i.incident_id,
        i.root_cause_key,
        coalesce(i.started_at, i.detected_at, i.aware_at) as occurred_at,
        coalesce(f.loss_eur, 0) as direct_loss_eur,
        i.notification_submitted_at
    from {{ ref('int_incidents') }} as i
    inner join {{ ref('int_incident_significance') }} as s on i.incident_id = s.incident_id
    inner join {{ ref('int_incident_significance_facts') }} as f on i.incident_id = f.incident_id
    where i.root_cause_key is not null
        and not i.is_planned_maintenance
        and s.criteria_met is null
        and i.significance_decision is distinct from 'significant'
),

fin as (
    select max(fin_threshold_eur) as fin_threshold_eur from {{ ref('int_incident_significance') }}
),

windows as (
    select
        c.root_cause_key,
        c.incident_id as checked_incident_id,
        c.occurred_at as window_end,
        c.occurred_at - make_interval(months => cast({{ threshold('IR4_RECURRING_WINDOW_MONTHS') }} as integer))
            as window_start,
        count(*) as incident_count,
        string_agg(m.incident_id, ';' order by m.occurred_at, m.incident_id) as incident_ids,
        sum(m.direct_loss_eur) as sum_direct_loss_eur,
        bool_or(m.notification_submitted_at is not null) as already_reported
    from candidates as c
    inner join candidates as m
        on c.root_cause_key = m.root_cause_key
            and m.occurred_at >= c.occurred_at - make_interval(months => cast({{ threshold('IR4_RECURRING_WINDOW_MONTHS') }} as integer))
            and (c.occurred_at > m.occurred_at or (c.occurred_at = m.occurred_at and c.incident_id >= m.incident_id))
    group by c.root_cause_key, c.incident_id, c.occurred_at
),

judged as (
    select
        w.*,
        f.fin_threshold_eur,
        w.incident_count >= {{ threshold('IR4_RECURRING_MIN_COUNT') }}
        and w.sum_direct_loss_eur > f.fin_threshold_eur as meets_art4
    from windows as w
    cross join fin as f
),

runs as (
    select
        *,
        meets_art4 and not coalesce(
            lag(meets_art4) over (partition by root_cause_key order by window_end, checked_incident_id), false
        ) as completes_group
    from judged
),

numbered as (
    select
        *,
        sum(case when completes_group then 1 else 0 end) over (
            partition by root_cause_key order by window_end, checked_incident_id
        ) as run_number
    from runs
)

select
    n.root_cause_key || ':' || n.checked_incident_id as check_id,
    n.root_cause_key,
    n.checked_incident_id,
    n.window_start,
    n.window_end,
    n.incident_count,
    n.incident_ids,
    n.sum_direct_loss_eur,
    n.fin_threshold_eur,
    n.meets_art4,
    n.completes_group,
    case when n.meets_art4
            then 'ART4:' || n.root_cause_key || ':' || first_value(n.checked_incident_id) over (
                    partition by n.root_cause_key, n.run_number order by n.window_end, n.checked_incident_id
                )
    end as group_id,
    n.already_reported
from numbered as n
