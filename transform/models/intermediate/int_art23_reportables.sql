-- What Art. 23 clocks run for: each incident of the register with its significance status, and
-- each IR Art. 4 group of recurring incidents, which is one significant incident of its own
-- (its clocks start at the awareness of the incident that completed it).
with register as (
    select * from {{ ref('mart_nis2_incident_register') }}
),

groups as (
    select * from {{ ref('int_incident_art4_groups') }}
)

select
    incident_id,
    'incident' as reportable_type,
    significance_status,
    is_planned_maintenance,
    aware_at,
    handled_at,
    early_warning_submitted_at,
    early_warning_ref,
    notification_submitted_at,
    notification_ref,
    intermediate_requested_at,
    intermediate_due_at,
    intermediate_submitted_at,
    intermediate_ref,
    final_report_submitted_at,
    final_report_ref,
    progress_report_submitted_at,
    progress_report_ref,
    personal_data_breach,
    gdpr_notified_at
from register
union all
select
    group_id,
    'art4_group',
    'significant',
    false,
    formed_at,
    handled_at,
    early_warning_submitted_at,
    early_warning_ref,
    notification_submitted_at,
    notification_ref,
    intermediate_requested_at,
    intermediate_due_at,
    intermediate_submitted_at,
    intermediate_ref,
    final_report_submitted_at,
    final_report_ref,
    progress_report_submitted_at,
    progress_report_ref,
    'no',
    null
from groups
