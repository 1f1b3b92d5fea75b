-- The incident register as evidence (Annex 3.5.4, 3.6; Dir. Art. 23(4)(a) content fields):
-- one row per incident, with derived awareness, handling times, the significance verdict and
-- what the CSIRTs' forms ask (start, services, assets, Member States, threat type, GDPR flag,
-- recipients informed, assistance, law enforcement, TLP, indicators, mitigation).
with incidents as (
    select * from {{ ref('int_incidents') }}
),

significance as (
    select
        incident_id,
        is_significant,
        significance_status,
        criteria_met
    from {{ ref('mart_nis2_significance_assessment') }}
),

iocs as (
    -- addresses as pseudonyms (value_key), like every address in the marts
    select
        incident_id,
        count(*) as iocs_count,
        jsonb_agg(
            jsonb_build_object(
                'type', ioc_type, 'value', ioc_value, 'value_key', value_key,
                'sources', ioc_sources, 'alert_ids', alert_ids
            ) order by ioc_type, coalesce(ioc_value, value_key)
        ) as iocs
    from {{ ref('int_incident_iocs') }}
    group by incident_id
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
    i.description,
    i.category,
    i.threat_type,
    i.severity,
    i.status,
    i.started_at,
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
    i.affected_member_states,
    i.affected_services,
    i.affected_assets,
    i.root_cause_key,
    i.root_cause,
    i.mitigation_measures,
    i.contained_at,
    i.resolved_at,
    i.handled_at,
    round(cast(extract(epoch from (i.contained_at - i.detected_at)) / 3600 as numeric), 2)
        as hours_to_contain,
    round(cast(extract(epoch from (i.resolved_at - i.detected_at)) / 3600 as numeric), 2)
        as hours_to_resolve,
    i.is_planned_maintenance,
    i.estimated_direct_loss_eur,
    i.direct_loss_potential_eur,
    i.affected_users,
    i.outage_start_at,
    i.outage_end_at,
    i.outage_minutes,
    i.limited_availability_minutes,
    i.cia_compromised,
    i.unauthorised_access_successful,
    i.severe_disruption_capable,
    i.physical_access_compromised,
    i.personal_data_breach,
    i.gdpr_notified_at,
    i.recipients_informed,
    i.csirt_assistance_requested,
    i.law_enforcement_involved,
    i.tlp,
    coalesce(s.is_significant, false) as is_significant,
    coalesce(s.significance_status, 'pending_assessment') as significance_status,
    i.significance_decision,
    i.significance_assessed_at,
    coalesce(s.criteria_met, '') as criteria_met,
    i.early_warning_submitted_at,
    i.notification_submitted_at,
    i.final_report_submitted_at,
    i.progress_report_submitted_at,
    i.intermediate_requested_at,
    i.intermediate_due_at,
    i.intermediate_submitted_at,
    i.intermediate_ref,
    i.early_warning_submitted_at is not null or i.notification_submitted_at is not null
        as csirt_notified_flag,
    coalesce(i.notification_ref, i.early_warning_ref) as csirt_reference_id,
    i.early_warning_ref,
    i.notification_ref,
    i.final_report_ref,
    i.progress_report_ref,
    i.linked_alert_count,
    i.linked_alert_ids,
    i.first_linked_alert_at,
    coalesce(c.iocs_count, 0) as iocs_count,
    coalesce(c.iocs, cast('[]' as jsonb)) as iocs,
    i.timeline,
    nullif(i.invalid_fields, '') as invalid_fields
from incidents as i
left join significance as s on i.incident_id = s.incident_id
left join iocs as c on i.incident_id = c.incident_id
cross join profile as p
