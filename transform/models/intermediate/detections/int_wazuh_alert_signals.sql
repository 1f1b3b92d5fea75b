-- Wazuh alerts that can feed a detection, one row per alert and signal (auth_failure,
-- auth_success, lockout, file_change, web_attack, sudo_root, group_grant), read from the alert
-- itself: rule id, rule group or Windows event id as mapped in seed wazuh_detection_rules
-- (rule id first, then event id, then group), with the account, source address, host, path,
-- HTTP status and group the detections need, and the local time judged against the working
-- hours of detection_policy (OFF_HOURS_*, weekends, public holidays of the entity's State).
-- Incremental: alerts loaded since the last build are added (a re-sent alert replaces its rows).
-- After editing seed wazuh_detection_rules run it with --full-refresh.
{{ config(
    materialized='incremental',
    unique_key='signal_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[
        {'columns': ['signal_id'], 'unique': True},
        {'columns': ['signal', 'event_ts']},
    ],
    pre_hook=["{{ reset_watermark_on_full_build() }}"],
    post_hook=["{{ save_watermark(ref('stg_wazuh__alerts'), name=this.identifier ~ ':stg_wazuh__alerts') }}"]
) }}

with rules as (
    select
        match_type,
        match_value,
        signal,
        mitre_technique,
        case match_type when 'rule_id' then 1 when 'win_event_id' then 2 else 3 end as priority
    from {{ ref('wazuh_detection_rules') }}
),

alerts as (
    select a.*
    from {{ ref('stg_wazuh__alerts') }} as a
    {% if is_incremental() %}
        where {{ new_since_last_build('a.loaded_at', 'stg_wazuh__alerts') }}
    {% endif %}
),

matched as (
    select distinct on (a.alert_id, r.signal)
        a.*,
        r.signal,
        r.mitre_technique
    from alerts as a
    inner join rules as r
        on (r.match_type = 'rule_id' and a.rule_id = r.match_value)
            or (r.match_type = 'win_event_id' and a.win_event_id = r.match_value)
            or (r.match_type = 'group' and a.rule_groups ? r.match_value)
    order by a.alert_id, r.signal, r.priority
),

profile as (
    select
        time_zone,
        member_state
    from {{ ref('nis2_entity_profile') }}
    where entity_id = '{{ var("entity_id") }}'
),

shaped as (
    select
        m.alert_id || ':' || m.signal as signal_id,
        m.alert_id,
        m.signal,
        m.mitre_technique,
        m.event_ts,
        m.rule_id,
        m.rule_level,
        m.agent_name,
        -- '-' and loopback are what Windows writes for a local logon: no source address
        coalesce(
            nullif(m.src_ip, ''),
            case when m.win_ip_address not in ('', '-', '::1', '127.0.0.1') then m.win_ip_address end
        ) as src_ip,
        -- the account an authentication, lockout or grant is about; for sudo the invoking user
        lower(case
            when m.signal = 'sudo_root' then coalesce(m.src_user, m.win_subject_user)
            when m.signal = 'group_grant' then coalesce(m.win_member_name, m.dst_user)
            else coalesce(nullif(m.win_target_user, ''), m.dst_user, m.src_user)
        end) as account,
        lower(coalesce(m.dst_user, case when m.signal = 'sudo_root' then 'root' end))
            as target_account,
        case when m.signal = 'group_grant' then m.win_target_user end as group_name,
        m.win_event_id,
        m.fim_path as file_path,
        m.fim_event,
        m.http_status,
        m.http_status ~ '^2[0-9][0-9]$' or m.rule_id = '31106' as is_2xx,
        m.event_ts at time zone p.time_zone as local_ts,
        extract(hour from m.event_ts at time zone p.time_zone) >= {{ policy('OFF_HOURS_START') }}
        or extract(hour from m.event_ts at time zone p.time_zone) < {{ policy('OFF_HOURS_END') }}
        or extract(isodow from m.event_ts at time zone p.time_zone) >= 6
        or exists (
            select 1 from {{ ref('public_holidays') }} as h
            where h.member_state = p.member_state
                and cast(h.holiday_date as date) = cast(m.event_ts at time zone p.time_zone as date)
        ) as is_off_hours,
        m.loaded_at
    from matched as m
    cross join profile as p
)

select * from shaped
-- a success only counts after failures from its address: without one (cron's PAM sessions,
-- most of any manager's alerts) it can never feed a detection
where signal != 'auth_success' or src_ip is not null
