-- IR Art. 4: incidents that are not significant on their own, with the same apparent root cause,
-- at least twice within 6 months, together exceeding the Art. 3(1)(a) loss threshold, count as
-- one significant incident. Assessed at each quarter end (Annex 3.4.2(b)); the running quarter
-- is assessed provisionally (is_quarter_complete = false) so a group is visible before then.
with individual as (
    select
        i.incident_id,
        i.root_cause_key,
        coalesce(i.aware_at, i.detected_at) as occurred_at,
        coalesce(i.estimated_direct_loss_eur, 0) as direct_loss_eur,
        i.notification_submitted_at
    from {{ ref('int_incidents') }} as i
    where i.root_cause_key is not null
        and not i.is_planned_maintenance
        and exists (
            select 1 from {{ ref('int_incident_significance') }} as s
            where s.incident_id = i.incident_id and s.criteria_met is null
        )
),

fin as (
    select max(fin_threshold_eur) as fin_threshold_eur from {{ ref('int_incident_significance') }}
),

quarter_ends as (
    select q as window_end
    from generate_series(
            (select date_trunc('quarter', min(occurred_at)) + interval '3 months' from individual),
            date_trunc('quarter', {{ as_of() }}) + interval '3 months',
            interval '3 months'
        ) as g (q)
),

windows as (
    select
        i.root_cause_key,
        q.window_end - make_interval(months => cast({{ threshold('IR4_RECURRING_WINDOW_MONTHS') }} as integer))
            as window_start,
        q.window_end,
        count(*) as incident_count,
        string_agg(i.incident_id, ';' order by i.occurred_at) as incident_ids,
        sum(i.direct_loss_eur) as sum_direct_loss_eur,
        bool_or(i.notification_submitted_at is not null) as already_reported
    from quarter_ends as q
    inner join individual as i
        on i.occurred_at > q.window_end - make_interval(months => cast({{ threshold('IR4_RECURRING_WINDOW_MONTHS') }} as integer))
            and q.window_end >= i.occurred_at
    group by i.root_cause_key, q.window_end
)

select
    w.root_cause_key || ':' || to_char(w.window_end at time zone 'UTC', 'YYYY-MM-DD') as check_id,
    w.root_cause_key,
    w.window_start,
    w.window_end,
    w.incident_count,
    w.incident_ids,
    w.sum_direct_loss_eur,
    f.fin_threshold_eur,
    w.incident_count >= {{ threshold('IR4_RECURRING_MIN_COUNT') }}
    and w.sum_direct_loss_eur > f.fin_threshold_eur as meets_art4,
    w.already_reported,
    w.window_end <= {{ as_of() }} as is_quarter_complete
from windows as w
cross join fin as f
