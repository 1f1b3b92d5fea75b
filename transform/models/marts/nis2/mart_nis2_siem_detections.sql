-- SIEM detections from Wazuh alerts of any organisation (Annex 3.2.3, 3.2.4): authentication
-- attacks, critical file changes off-hours, web attacks the application answered, privilege
-- escalation. Each row names its MITRE ATT&CK technique, the Annex point it evidences (seed
-- security_detection_catalog), the threshold applied and the alerts that make it; people and
-- addresses are pseudonymised. The mapping from Wazuh rules is seed wazuh_detection_rules.
{#- a dotted IPv4 address that casts to inet (other text, IPv6 included, is left unjudged) -#}
{%- set ipv4 = "'^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])[.]){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$'" %}
with detections as (
    select
        detection_type,
        group_key,
        src_ip,
        account,
        agent_name,
        window_start,
        window_end,
        detected_at,
        peak_in_window,
        threshold_used,
        cast(null as text) as file_path,
        cast(null as text) as group_name,
        cast(null as text) as path_technique,
        evidence_alerts,
        evidence_alert_ids,
        failures,
        lockouts,
        distinct_accounts
    from {{ ref('int_wazuh_auth_detections') }}
    union all
    select
        detection_type,
        group_key,
        src_ip,
        account,
        agent_name,
        window_start,
        window_end,
        detected_at,
        peak_in_window,
        threshold_used,
        file_path,
        group_name,
        mitre_technique,
        evidence_alerts,
        evidence_alert_ids,
        null,
        null,
        null
    from {{ ref('int_wazuh_host_detections') }}
),

networks as (
    select cast(cidr as cidr) as cidr from {{ ref('organisation_networks') }}
)

select
    md5(d.detection_type || '|' || d.group_key || '|' || d.detected_at) as detection_id,
    d.detection_type,
    'wazuh' as source_system,
    coalesce(d.path_technique, c.mitre_technique) as mitre_technique,
    c.mitre_tactic,
    c.ir_annex,
    d.agent_name as asset_id,
    {{ pseudonymise('d.account') }} as account_key,
    {{ pseudonymise('d.src_ip') }} as src_ip_key,
    case
        when d.src_ip ~ {{ ipv4 }}
            then not exists (
                    select 1 from networks as n
                    where network_subeq(cast(d.src_ip as inet), n.cidr)
                )
    end as is_external_source,
    d.window_start,
    d.window_end,
    d.detected_at,
    d.failures,
    d.lockouts,
    d.distinct_accounts,
    d.peak_in_window,
    d.threshold_used,
    d.file_path,
    d.group_name,
    d.evidence_alerts,
    d.evidence_alert_ids
from detections as d
left join {{ ref('security_detection_catalog') }} as c
    on d.detection_type = c.detection_type and c.source_system = 'wazuh'
