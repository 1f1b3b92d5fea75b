-- Is each incident significant? Dir. Art. 23(3) as concretised by IR 2024/2690 Arts. 3-14:
-- one boolean per criterion, the codes met, and a plain-language explanation with the numbers.
with recurring as (
    select
        u.incident_id,
        min(c.check_id) as check_id
    from {{ ref('mart_nis2_recurring_incident_check') }} as c
    cross join lateral unnest(string_to_array(c.incident_ids, ';')) as u (incident_id)
    where c.meets_art4
    group by u.incident_id
),

incidents as (
    select * from {{ ref('int_incidents') }}
),

profile as (
    select ir_entity_types from {{ ref('nis2_entity_profile') }}
    where entity_id = '{{ var("entity_id") }}'
),

met as (
    select * from {{ ref('int_incident_significance') }}
)

select
    i.incident_id,
    coalesce(i.updated_at, i.loaded_at) as assessed_at,
    case when p.ir_entity_types is not null and p.ir_entity_types != ''
            then 'IR_2024_2690'
        else 'NIS2_ART23_3'
    end as regime,
    p.ir_entity_types as entity_type,
    {% for code in ['c_3_1_a', 'c_3_1_b', 'c_3_1_c', 'c_3_1_d', 'c_3_1_e',
                    'c_art7_a', 'c_art7_b', 'c_art7_c', 'c_art7_d',
                    'c_art11_a', 'c_art11_b', 'c_art11_c', 'c_art11_d',
                    'c_art14_a', 'c_art14_b', 'c_art14_c', 'c_art14_e'] %}
        m.{{ code }},
    {% endfor %}
    r.incident_id is not null as c_4_recurring,
    r.check_id as recurring_check_id,
    i.is_planned_maintenance,
    case when i.is_planned_maintenance then '' else coalesce(m.criteria_met, '') end as criteria_met,
    not i.is_planned_maintenance and m.criteria_met is not null as is_significant,
    m.fin_threshold_eur,
    i.estimated_direct_loss_eur as direct_loss_eur_estimate,
    i.outage_minutes as unavail_minutes,
    i.limited_availability_minutes as limited_avail_minutes,
    i.affected_users as affected_eu_users,
    case
        when i.is_planned_maintenance
            then 'Not significant: scheduled interruption or planned maintenance (IR Art. 3(2)).'
        when m.criteria_met is null
            then 'Not significant on its own: no criterion of IR Arts. 3 and 5-14 met; direct loss EUR '
                || coalesce(i.estimated_direct_loss_eur, 0) || ' does not exceed EUR '
                || round(m.fin_threshold_eur, 2) || '.'
                || case when r.incident_id is not null
                        then ' Part of a recurring group that is collectively one significant incident '
                            || '(IR Art. 4; ' || r.check_id || ').'
                    else ''
                end
        else 'Significant: ' || m.met_details || '.'
    end as explanation
from incidents as i
left join met as m on i.incident_id = m.incident_id
left join recurring as r on i.incident_id = r.incident_id
cross join profile as p
