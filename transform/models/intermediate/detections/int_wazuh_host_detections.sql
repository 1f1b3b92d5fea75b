-- SIEM host and application detections from Wazuh alerts (int_wazuh_alert_signals), one row
-- per detection: critical files changed off-hours (seed critical_file_paths, working hours of
-- detection_policy), a web attack answered 2xx after an earlier scan or attack from the same
-- address, a member added to a privileged group (seed privileged_roles, windows and linux
-- rows) and repeated sudo to root by one user on one host. Thresholds: seed
-- siem_detection_policy. Rebuilt in full each run from the few alerts with these signals.
{% set sp = "select cast(value as numeric) from " ~ ref('siem_detection_policy') ~ " where policy_code = " %}
with params as (
    select
        make_interval(mins => cast(({{ sp }}'WAZUH_WEB_WINDOW_MINUTES') as integer)) as web_win,
        ({{ sp }}'WAZUH_SUDO_ROOT_COUNT') as sudo_min,
        make_interval(mins => cast(({{ sp }}'WAZUH_SUDO_WINDOW_MINUTES') as integer)) as sudo_win
),

signals as (
    select *
    from {{ ref('int_wazuh_alert_signals') }}
    where signal in ('file_change', 'web_attack', 'group_grant', 'sudo_root')
),

file_changes as (
    select
        'critical_file_change_off_hours' as detection_type,
        s.agent_name || ':' || s.file_path || ':' || s.alert_id as group_key,
        s.src_ip,
        s.account,
        s.agent_name,
        s.event_ts as window_start,
        s.event_ts as window_end,
        s.event_ts as detected_at,
        1 as peak_in_window,
        cast(1 as numeric) as threshold_used,
        s.file_path,
        cast(null as text) as group_name,
        c.mitre_technique,
        1 as evidence_alerts,
        s.alert_id as evidence_alert_ids
    from signals as s
    inner join lateral (
        select c.mitre_technique
        from {{ ref('critical_file_paths') }} as c
        where s.file_path like c.path_pattern
        order by length(c.path_pattern) desc
        limit 1
    ) as c on true
    where s.signal = 'file_change' and s.is_off_hours
),

-- a 2xx-answered attack with an earlier scan or attack from the same address in the window
web_successes as (
    select
        s.alert_id,
        s.src_ip,
        s.agent_name,
        s.event_ts,
        count(*) as precursors,
        min(e.event_ts) as first_precursor_at
    from signals as s
    inner join signals as e
        on s.src_ip = e.src_ip
            and e.signal = 'web_attack'
            and s.alert_id != e.alert_id
            and s.event_ts >= e.event_ts
            and s.event_ts - (select p.web_win from params as p) <= e.event_ts
    where s.signal = 'web_attack' and s.is_2xx and s.src_ip is not null
    group by s.alert_id, s.src_ip, s.agent_name, s.event_ts
),

web as (
    select
        'web_attack_success' as detection_type,
        w.src_ip as group_key,
        w.src_ip,
        cast(null as text) as account,
        min(w.agent_name) as agent_name,
        min(w.first_precursor_at) as window_start,
        max(w.event_ts) as window_end,
        min(w.event_ts) as detected_at,
        max(w.precursors) as peak_in_window,
        cast(1 as numeric) as threshold_used,
        cast(null as text) as file_path,
        cast(null as text) as group_name,
        cast(null as text) as mitre_technique,
        (
            select count(*) from signals as e
            where e.signal = 'web_attack' and e.src_ip = w.src_ip
                and e.event_ts between min(w.first_precursor_at) and max(w.event_ts)
        ) as evidence_alerts,
        (
            select string_agg(e.alert_id, ';' order by e.event_ts, e.alert_id) from signals as e
            where e.signal = 'web_attack' and e.src_ip = w.src_ip
                and e.event_ts between min(w.first_precursor_at) and max(w.event_ts)
        ) as evidence_alert_ids
    from web_successes as w
    -- one detection per address and day of successes
    group by w.src_ip, cast(w.event_ts as date)
),

grants as (
    select
        'privileged_group_grant' as detection_type,
        s.alert_id as group_key,
        s.src_ip,
        s.account,
        s.agent_name,
        s.event_ts as window_start,
        s.event_ts as window_end,
        s.event_ts as detected_at,
        1 as peak_in_window,
        cast(1 as numeric) as threshold_used,
        cast(null as text) as file_path,
        s.group_name,
        cast(null as text) as mitre_technique,
        1 as evidence_alerts,
        s.alert_id as evidence_alert_ids
    from signals as s
    where s.signal = 'group_grant'
        -- rule 60154 fires on removals from Administrators too: 4729, 4733, 4757 remove
        and coalesce(s.win_event_id, '') not in ('4729', '4733', '4757')
        and exists (
            select 1 from {{ ref('privileged_roles') }} as p
            where p.source_system in ('windows', 'linux')
                and lower(p.role_name) = lower(s.group_name)
        )
),

sudo as (
    select
        s.*,
        count(*) over (
            partition by s.agent_name, s.account order by s.event_ts
            range between (select p.sudo_win from params as p) preceding and current row  -- noqa: PRS
        ) as n_in_window
    from signals as s
    where s.signal = 'sudo_root'
),

sudo_episodes as (
    select
        f.*,
        sum(case when f.prev_ts is null or f.event_ts - f.prev_ts > p.sudo_win then 1 else 0 end)
            over (partition by f.agent_name, f.account order by f.event_ts) as episode
    from (
        select
            *,
            lag(event_ts) over (partition by agent_name, account order by event_ts) as prev_ts
        from sudo
        where n_in_window >= (select p.sudo_min from params as p)
    ) as f
    cross join params as p
),

sudo_detections as (
    select
        'repeated_sudo_root' as detection_type,
        e.agent_name || ':' || e.account as group_key,
        cast(null as text) as src_ip,
        e.account,
        e.agent_name,
        min(e.event_ts) - (select p.sudo_win from params as p) as lookback,
        max(e.event_ts) as window_end,
        min(e.event_ts) as detected_at,
        max(e.n_in_window) as peak_in_window
    from sudo_episodes as e
    group by e.agent_name, e.account, e.episode
)

select * from file_changes
union all
select * from web
union all
select * from grants
union all
select
    d.detection_type,
    d.group_key,
    d.src_ip,
    d.account,
    d.agent_name,
    min(s.event_ts),
    d.window_end,
    d.detected_at,
    d.peak_in_window,
    (select p.sudo_min from params as p),
    null,
    null,
    null,
    count(*),
    string_agg(s.alert_id, ';' order by s.event_ts, s.alert_id)
from sudo_detections as d
inner join sudo as s
    on d.agent_name = s.agent_name and d.account = s.account
        and s.event_ts between d.lookback and d.window_end
group by
    d.detection_type, d.group_key, d.src_ip, d.account, d.agent_name, d.window_end,
    d.detected_at, d.peak_in_window
