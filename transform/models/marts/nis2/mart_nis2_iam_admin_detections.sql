-- Keycloak admin-event detections (int_keycloak_admin_detections): leavers with their access
-- review after the leave time, administrators' password resets and privileged grants off-hours
-- or from outside the organisation's networks. Actor, target and address are pseudonymised;
-- each row names its MITRE ATT&CK technique and Annex point (seed security_detection_catalog).
select
    md5(d.detection_type || '|' || d.admin_event_id) as detection_id,
    d.detection_type,
    'keycloak' as source_system,
    c.mitre_technique,
    c.mitre_tactic,
    c.ir_annex,
    d.admin_event_id,
    d.event_ts,
    d.local_time,
    d.is_off_hours,
    {{ pseudonymise('d.actor') }} as actor_key,
    {{ pseudonymise('d.target') }} as target_key,
    {{ pseudonymise('d.ip_address') }} as src_ip_key,
    d.is_external_source,
    d.role_name,
    d.approval_ticket_id,
    d.disabled_at,
    d.deleted_at,
    d.logins_after_leave,
    d.last_login_after_leave,
    d.entitlements_held,
    d.privileged_entitlements_held,
    d.is_finding
from {{ ref('int_keycloak_admin_detections') }} as d
left join {{ ref('security_detection_catalog') }} as c
    on d.detection_type = c.detection_type and c.source_system = 'keycloak'
