-- The incident register as evidence (Annex 3.5.4, 3.6; Dir. Art. 23(4)(a) content fields):
-- one row per incident, with derived awareness, handling times and the significance verdict.
with incidents as (
    select * from {{ ref('int_incidents') }}
),

significance as (
    select
        incident_id,
        is_significant,
        criteria_met
    from {{ ref('mart_nis2_significance_assessment') }}
),

profile as (
    select
        entity_id,
        member_state
    from {{ ref('nis2_entity_profile') }}
    where entity_id = '{{ var("entity_id") }}'
)

select
    i.incident_id,
    p.member_state,
    p.entity_id,
    i.title,
    i.category,
    i.severity,
    i.status,
    i.detected_at,
    i.aware_at,
    i.aware_at_derived,
    round(cast(extract(epoch from (i.aware_at - i.aware_at_derived)) / 3600 as numeric), 2)
        as awareness_lag_h,
    coalesce(
        i.aware_at > i.aware_at_derived
        + make_interval(hours => cast({{ policy('AWARENESS_REVIEW_LAG_HOURS') }} as integer)),
        false
    ) as awareness_review_flag,
    i.suspected_malicious,
    i.cross_border as cross_border_possible,
    i.root_cause_key,
    i.root_cause,
    i.contained_at,
    i.resolved_at,
    i.handled_at,
    round(cast(extract(epoch from (i.contained_at - i.detected_at)) / 3600 as numeric), 2)
        as hours_to_contain,
    round(cast(extract(epoch from (i.resolved_at - i.detected_at)) / 3600 as numeric), 2)
        as hours_to_resolve,
    i.is_planned_maintenance,
    i.estimated_direct_loss_eur,
    i.affected_users,
    i.outage_minutes,
    i.limited_availability_minutes,
    i.cia_compromised,
    coalesce(s.is_significant, false) as is_significant,
    coalesce(s.criteria_met, '') as criteria_met,
    i.early_warning_submitted_at,
    i.notification_submitted_at,
    i.final_report_submitted_at,
    i.progress_report_submitted_at,
    i.early_warning_submitted_at is not null or i.notification_submitted_at is not null
        as csirt_notified_flag,
    coalesce(i.notification_ref, i.early_warning_ref) as csirt_reference_id,
    i.early_warning_ref,
    i.notification_ref,
    i.final_report_ref,
    i.progress_report_ref,
    i.linked_alert_count,
    i.first_linked_alert_at,
    i.timeline,
    nullif(i.invalid_fields, '') as invalid_fields
from incidents as i
left join significance as s on i.incident_id = s.incident_id
cross join profile as p
