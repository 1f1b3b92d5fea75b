-- The facts each IR 2024/2690 significance criterion compares, one row per incident, with every
-- threshold of the entity derived from the seed ("whichever is lower/smaller" = least) and
-- written out so an explanation can show where it comes from.
-- Direct loss (Art. 3(1)(a) "has caused or is capable of causing"): the greater of the actual
-- (estimated_direct_loss_eur) and the potential loss. Complete unavailability: the outage's
-- own start and end when recorded, else outage_minutes. Art. 14(b) sums the unavailability
-- per calendar week of the entity's time zone, keyed on the outage (not on awareness), per
-- affected service, leaving out planned maintenance (Art. 3(2)).
with incidents as (
    select * from {{ ref('int_incidents') }}
),

profile as (
    select
        cast(turnover_prev_fy_eur as numeric) as turnover_eur,
        cast(eu_user_base as numeric) as user_base,
        ir_entity_types,
        coalesce(time_zone, 'UTC') as time_zone
    from {{ ref('nis2_entity_profile') }}
    where entity_id = '{{ var("entity_id") }}'
),

limits as (
    select
        p.*,
        round(least({{ threshold('IR3_1_A_LOSS_EUR') }}, {{ threshold('IR3_1_A_LOSS_TURNOVER_PCT') }} / 100 * p.turnover_eur), 2)
            as fin_threshold_eur,
        'least of EUR ' || {{ threshold('IR3_1_A_LOSS_EUR') }} || ' and '
        || {{ threshold('IR3_1_A_LOSS_TURNOVER_PCT') }} || ' % of the preceding year''s turnover EUR '
        || coalesce(cast(p.turnover_eur as text), 'MISSING') || ' (IR Art. 3(1)(a))' as fin_derivation,
        {% for art in ['7', '9', '10', '11', '12', '13'] %}
            least({{ threshold('IR' ~ art ~ '_USERS_PCT') }} / 100 * p.user_base, {{ threshold('IR' ~ art ~ '_USERS_ABS') }})
                as users_art{{ art }},
            'least of ' || {{ threshold('IR' ~ art ~ '_USERS_PCT') }} || ' % of the ' || coalesce(cast(p.user_base as text), 'MISSING')
            || ' users in the Union and ' || {{ threshold('IR' ~ art ~ '_USERS_ABS') }} || ' (IR Art. {{ art }})'
                as users_art{{ art }}_derivation,
        {% endfor %}
        least({{ threshold('IR14_C_USERS_PCT') }} / 100 * p.user_base, {{ threshold('IR14_C_USERS_ABS') }})
            as users_art14_c,
        'least of ' || {{ threshold('IR14_C_USERS_PCT') }} || ' % of the ' || coalesce(cast(p.user_base as text), 'MISSING')
        || ' users or relying parties in the Union and ' || {{ threshold('IR14_C_USERS_ABS') }} || ' (IR Art. 14(c))'
            as users_art14_c_derivation,
        least({{ threshold('IR14_E_USERS_PCT') }} / 100 * p.user_base, {{ threshold('IR14_E_USERS_ABS') }})
            as users_art14_e,
        'least of ' || {{ threshold('IR14_E_USERS_PCT') }} || ' % of the ' || coalesce(cast(p.user_base as text), 'MISSING')
        || ' users or relying parties in the Union and ' || {{ threshold('IR14_E_USERS_ABS') }} || ' (IR Art. 14(e))'
            as users_art14_e_derivation
    from profile as p
),

outages as (
    -- the outage interval: recorded start and end; else a start (outage, incident start or
    -- detection) plus outage_minutes
    select
        i.incident_id,
        i.is_planned_maintenance,
        coalesce(i.affected_services, 'unspecified service') as affected_services,
        coalesce(i.outage_start_at, i.started_at, i.detected_at) as outage_from,
        coalesce(
            i.outage_end_at,
            coalesce(i.outage_start_at, i.started_at, i.detected_at) + make_interval(mins => cast(i.outage_minutes as integer))
        ) as outage_to,
        i.outage_start_at is null and i.outage_minutes > 0 as outage_start_assumed
    from incidents as i
    where coalesce(i.outage_minutes, 0) > 0 or i.outage_end_at > i.outage_start_at
),

outage_weeks as (
    -- each outage cut at the entity's calendar-week boundaries (ISO weeks, Monday 00:00 local)
    select
        o.incident_id,
        o.is_planned_maintenance,
        trim(s.service) as service,
        w.week_start,
        extract(epoch from (
            least(o.outage_to, (w.week_start + interval '7 days') at time zone l.time_zone)
            - greatest(o.outage_from, w.week_start at time zone l.time_zone)
        )) / 60 as minutes_in_week
    from outages as o
    cross join limits as l
    cross join lateral unnest(string_to_array(o.affected_services, ';')) as s (service)
    cross join
        lateral generate_series(
            date_trunc('week', o.outage_from at time zone l.time_zone),
            date_trunc('week', o.outage_to at time zone l.time_zone),
            interval '7 days'
        ) as w (week_start)
    where o.outage_to > o.outage_from
),

week_sums as (
    select
        service,
        week_start,
        sum(minutes_in_week) filter (where not is_planned_maintenance) as week_minutes
    from outage_weeks
    group by service, week_start
),

incident_weeks as (
    select distinct on (w.incident_id)
        w.incident_id,
        round(cast(s.week_minutes as numeric), 2) as week_outage_min,
        w.service || ', week of ' || to_char(w.week_start, 'YYYY-MM-DD') as week_label
    from outage_weeks as w
    inner join week_sums as s on w.service = s.service and w.week_start = s.week_start
    order by w.incident_id asc, s.week_minutes desc nulls last
)

select
    i.incident_id,
    i.is_planned_maintenance,
    i.category,
    i.suspected_malicious,
    i.estimated_direct_loss_eur as loss_actual_eur,
    i.direct_loss_potential_eur as loss_potential_eur,
    case when coalesce(i.estimated_direct_loss_eur, i.direct_loss_potential_eur) is not null
            then greatest(coalesce(i.estimated_direct_loss_eur, 0), coalesce(i.direct_loss_potential_eur, 0))
    end as loss_eur,
    coalesce(
        round(cast(extract(epoch from (i.outage_end_at - i.outage_start_at)) / 60 as numeric), 2),
        i.outage_minutes
    ) as outage_min,
    o.outage_start_assumed,
    i.limited_availability_minutes as limited_min,
    i.affected_users,
    i.cia_compromised,
    i.unauthorised_access_successful,
    i.severe_disruption_capable,
    i.physical_access_compromised,
    i.slow_response_minutes,
    i.avg_response_seconds,
    i.dns_wrong_domains,
    i.dns_managed_domains,
    i.dns_compromise_cause,
    coalesce(w.week_outage_min, 0) as week_outage_min,
    w.week_label,
    l.*
from incidents as i
cross join limits as l
left join outages as o on i.incident_id = o.incident_id
left join incident_weeks as w on i.incident_id = w.incident_id
