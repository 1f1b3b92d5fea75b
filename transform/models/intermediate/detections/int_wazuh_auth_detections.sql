-- SIEM authentication detections from Wazuh alerts (int_wazuh_alert_signals), one row per
-- episode: brute force from one address, a success from that address after it, password
-- spray (distinct accounts from one address) and lockout bursts across the organisation.
-- Thresholds: seed siem_detection_policy and the TIG lockout example (nis2_thresholds).
-- Consecutive flagged alerts of one key closer than the window form one episode. Rebuilt in
-- full each run: it reads only the few alerts that carry an authentication signal.
{% set sp = "select cast(value as numeric) from " ~ ref('siem_detection_policy') ~ " where policy_code = " %}
with params as (
    select
        make_interval(mins => cast(({{ sp }}'WAZUH_AUTH_WINDOW_MINUTES') as integer)) as win,
        ({{ sp }}'WAZUH_BRUTEFORCE_FAILURES') as bruteforce_min,
        make_interval(mins => cast(({{ sp }}'WAZUH_SUCCESS_AFTER_MINUTES') as integer))
            as success_win,
        ({{ sp }}'WAZUH_SPRAY_DISTINCT_USERS') as spray_min,
        make_interval(mins => cast(({{ sp }}'WAZUH_SPRAY_WINDOW_MINUTES') as integer)) as spray_win,
        {{ threshold('TIG_LOCKOUTS_COUNT') }} as lockouts_min,
        make_interval(mins => cast({{ threshold('TIG_LOCKOUTS_WINDOW_MINUTES') }} as integer))
            as lockout_win
),

signals as (
    select *
    from {{ ref('int_wazuh_alert_signals') }}
    where signal in ('auth_failure', 'auth_success', 'lockout')
),

failures as (
    select
        s.*,
        count(*) over (
            partition by s.src_ip order by s.event_ts
            range between (select win from params) preceding and current row  -- noqa: PRS
        ) as n_in_window
    from signals as s
    where s.signal = 'auth_failure' and s.src_ip is not null
),

-- exact distinct accounts per address over the spray window, only for addresses that failed
-- with enough accounts at all
spray_sources as (
    select src_ip
    from failures
    group by src_ip
    having count(distinct account) >= (select p.spray_min from params as p)
),

spray as (
    select
        f.alert_id,
        f.src_ip,
        f.event_ts,
        count(distinct g.account) as n_in_window
    from failures as f
    inner join spray_sources as k on f.src_ip = k.src_ip
    inner join failures as g
        on f.src_ip = g.src_ip
            and f.event_ts >= g.event_ts
            and f.event_ts - (select p.spray_win from params as p) < g.event_ts
    group by f.alert_id, f.src_ip, f.event_ts
),

lockouts as (
    select
        s.*,
        count(*) over (
            order by s.event_ts
            range between (select lockout_win from params) preceding and current row  -- noqa: PRS
        ) as n_in_window
    from signals as s
    where s.signal = 'lockout'
),

-- a success from an address that reached the brute-force threshold shortly before
successes as (
    select
        s.alert_id,
        s.src_ip,
        s.account,
        s.event_ts,
        max(f.n_in_window) as n_in_window
    from signals as s
    inner join failures as f
        on s.src_ip = f.src_ip
            and s.event_ts > f.event_ts
            and s.event_ts - (select p.success_win from params as p) <= f.event_ts
            and f.n_in_window >= (select p.bruteforce_min from params as p)
    where s.signal = 'auth_success'
    group by s.alert_id, s.src_ip, s.account, s.event_ts
),

flags as (
    select
        'bruteforce' as detection_type,
        f.src_ip as group_key,
        f.src_ip,
        f.event_ts,
        f.n_in_window,
        p.bruteforce_min as threshold_used,
        p.win as reach,
        cast(null as text) as account
    from failures as f cross join params as p
    where f.n_in_window >= p.bruteforce_min
    union all
    select
        'password_spray',
        s.src_ip as group_key,
        s.src_ip,
        s.event_ts,
        s.n_in_window,
        p.spray_min,
        p.spray_win,
        null
    from spray as s cross join params as p
    where s.n_in_window >= p.spray_min
    union all
    select
        'lockout_burst',
        'all',
        null,
        l.event_ts,
        l.n_in_window,
        p.lockouts_min,
        p.lockout_win,
        null
    from lockouts as l cross join params as p
    where l.n_in_window >= p.lockouts_min
    union all
    select
        'bruteforce_then_success',
        s.src_ip as group_key,
        s.src_ip,
        s.event_ts,
        s.n_in_window,
        p.bruteforce_min,
        p.success_win,
        s.account
    from successes as s cross join params as p
),

episodes as (
    select
        f.*,
        sum(case when f.prev_ts is null or f.event_ts - f.prev_ts > f.reach then 1 else 0 end)
            over (partition by f.detection_type, f.group_key order by f.event_ts) as episode
    from (
        select
            *,
            lag(event_ts) over (partition by detection_type, group_key order by event_ts) as prev_ts
        from flags
    ) as f
),

detections as (
    select
        detection_type,
        group_key,
        min(src_ip) as src_ip,
        min(account) as success_account,
        min(event_ts) as detected_at,
        max(event_ts) as last_flag_at,
        min(reach) as reach,
        max(n_in_window) as peak_in_window,
        max(threshold_used) as threshold_used
    from episodes
    group by detection_type, group_key, episode
),

-- the alerts that make each detection: the signals of its key from one reach before it
evidence as (
    select
        d.detection_type,
        d.group_key,
        d.detected_at,
        s.alert_id,
        s.event_ts,
        s.signal,
        s.account,
        s.agent_name
    from detections as d
    inner join signals as s
        on d.detected_at - d.reach <= s.event_ts
            and d.last_flag_at >= s.event_ts
            and (
                (d.detection_type = 'lockout_burst' and s.signal = 'lockout')
                or (
                    d.detection_type != 'lockout_burst'
                    and d.src_ip = s.src_ip
                    and (
                        s.signal = 'auth_failure'
                        or (
                            d.detection_type = 'bruteforce_then_success'
                            and s.signal = 'auth_success'
                            and d.detected_at <= s.event_ts
                        )
                    )
                )
            )
)

select
    d.detection_type,
    d.group_key,
    d.src_ip,
    coalesce(d.success_account, min(e.account)) as account,
    string_agg(distinct e.agent_name, ';') as agent_name,
    min(e.event_ts) as window_start,
    d.last_flag_at as window_end,
    d.detected_at,
    count(*) filter (where e.signal = 'auth_failure') as failures,
    count(*) filter (where e.signal = 'lockout') as lockouts,
    count(distinct e.account) as distinct_accounts,
    d.peak_in_window,
    d.threshold_used,
    count(*) as evidence_alerts,
    string_agg(e.alert_id, ';' order by e.event_ts, e.alert_id) as evidence_alert_ids
from detections as d
inner join evidence as e
    on d.detection_type = e.detection_type
        and d.group_key = e.group_key
        and d.detected_at = e.detected_at
group by
    d.detection_type, d.group_key, d.src_ip, d.success_account, d.detected_at, d.last_flag_at,
    d.peak_in_window, d.threshold_used
