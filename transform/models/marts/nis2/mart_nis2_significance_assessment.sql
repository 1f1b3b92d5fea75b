-- Is each incident significant? Dir. Art. 23(3) as concretised by IR 2024/2690 Arts. 3-14:
-- one boolean per criterion, the codes met, every applicable criterion as value vs threshold,
-- and a verdict with its basis. Unknown is never pass: until the entity records that it
-- assessed an incident as not significant (significance_decision, significance_assessed_at),
-- an incident meeting no criterion is pending_assessment, "potentially significant", and its
-- Art. 23 clocks run; once decided, the decision and its time stay on the row. Planned
-- maintenance is never significant (Art. 3(2)). A member of a recurring group keeps its own
-- verdict; the group is the significant incident (Art. 4; int_incident_art4_groups).
{%- set codes = significance_criterion_codes() %}
with recurring as (
    select
        u.incident_id,
        min(c.group_id) as group_id
    from {{ ref('mart_nis2_recurring_incident_check') }} as c
    cross join lateral unnest(string_to_array(c.incident_ids, ';')) as u (incident_id)
    where c.group_id is not null
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
),

verdicts as (
    select
        i.*,
        m.criteria_met as own_criteria_met,
        m.met_details,
        m.criteria_explained,
        m.missing_facts,
        m.fin_threshold_eur,
        {% for code in codes %}m.{{ code }},{% endfor %}
        r.group_id as recurring_group_id,
        case
            when i.is_planned_maintenance then 'not_significant'
            when m.criteria_met is not null or i.significance_decision = 'significant' then 'significant'
            when i.significance_decision = 'not_significant' and i.significance_assessed_at is not null
                then 'not_significant'
            else 'pending_assessment'
        end as significance_status,
        case
            when i.is_planned_maintenance then 'planned_maintenance'
            when m.criteria_met is not null then 'criteria'
            when i.significance_decision = 'significant' then 'entity_decision'
            when i.significance_decision = 'not_significant' and i.significance_assessed_at is not null
                then 'entity_decision'
            else 'none'
        end as decision_basis
    from incidents as i
    left join met as m on i.incident_id = m.incident_id
    left join recurring as r on i.incident_id = r.incident_id
)

select
    v.incident_id,
    coalesce(v.updated_at, v.loaded_at) as assessed_at,
    case when p.ir_entity_types is not null and p.ir_entity_types != ''
            then 'IR_2024_2690'
        else 'NIS2_ART23_3'
    end as regime,
    p.ir_entity_types as entity_type,
    {% for code in codes %}
        v.{{ code }},
    {% endfor %}
    v.recurring_group_id is not null as c_4_recurring,
    v.recurring_group_id,
    v.is_planned_maintenance,
    case when v.is_planned_maintenance then '' else coalesce(v.own_criteria_met, '') end as criteria_met,
    v.significance_status,
    v.significance_status = 'significant' as is_significant,
    v.significance_status != 'not_significant' as is_potentially_significant,
    v.decision_basis,
    v.significance_decision,
    v.significance_assessed_at as decided_at,
    v.fin_threshold_eur,
    v.estimated_direct_loss_eur as direct_loss_eur_estimate,
    v.direct_loss_potential_eur as direct_loss_eur_potential,
    v.outage_minutes as unavail_minutes,
    v.limited_availability_minutes as limited_avail_minutes,
    v.affected_users as affected_eu_users,
    v.criteria_explained,
    v.missing_facts,
    case
        when v.is_planned_maintenance
            then 'Not significant: scheduled interruption or planned maintenance (IR Art. 3(2)).'
        when v.own_criteria_met is not null
            then 'Significant: ' || v.met_details || '.'
        when v.significance_status = 'significant'
            then 'Significant by the entity''s assessment (Dir. Art. 23(3)) of '
                || coalesce(to_char(v.significance_assessed_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'), 'an unrecorded time')
                || '; no IR criterion met on the register''s facts.'
        when v.significance_status = 'not_significant'
            then 'Not significant: assessed on '
                || to_char(v.significance_assessed_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')
                || '; no criterion met.'
        else 'Potentially significant, assessment pending: no criterion met on the facts so far, '
            || 'no decision recorded; the Art. 23 clocks run from awareness.'
            || coalesce(' Facts missing: ' || v.missing_facts || '.', '')
    end
    || case when v.recurring_group_id is not null
            then ' Member of a recurring group that is collectively one significant incident (IR Art. 4; '
                || v.recurring_group_id || ').'
        else ''
    end
    || coalesce(' Criteria: ' || v.criteria_explained || '.', '') as explanation
from verdicts as v
cross join profile as p
