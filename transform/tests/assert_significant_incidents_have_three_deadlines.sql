-- Every significant incident has its early-warning, notification and final-report rows and an
-- awareness time (Art. 23(4)(a), (b), (d); NIS2-REFERENCE 6.5).
select
    i.incident_id,
    count(d.deadline_id) as stages
from {{ ref('mart_nis2_incident_register') }} as i
left join {{ ref('mart_nis2_reporting_deadlines') }} as d
    on i.incident_id = d.incident_id
        and d.stage in ('early_warning', 'notification', 'final')
        and d.status != 'not_required'
where i.is_significant and not i.is_planned_maintenance
group by i.incident_id, i.aware_at
having count(d.deadline_id) != 3 or i.aware_at is null
