-- Authentication-attack detections over sliding windows (Annex 3.2.3(d), 3.2.4, 11.6.2(d)):
-- brute force on one account, password spray from one source, lockout bursts (TIG: >= 3 in
-- 15 min) and a success after failures. Each detection says whether the SIEM raised an alarm;
-- one that it did not is a monitoring false negative (Annex 3.2.2).
with auth as (
    select * from {{ ref('int_auth_events') }}
),

params as (
    select
        make_interval(mins => cast({{ policy('BRUTEFORCE_WINDOW_MINUTES') }} as integer)) as win,
        {{ policy('BRUTEFORCE_FAILURES') }} as bruteforce_min,
        {{ policy('SPRAY_DISTINCT_USERS') }} as spray_min,
        {{ policy('SUCCESS_AFTER_FAILURES_MIN') }} as success_after_min,
        {{ threshold('TIG_LOCKOUTS_COUNT') }} as lockouts_min,
        make_interval(mins => cast({{ threshold('TIG_LOCKOUTS_WINDOW_MINUTES') }} as integer))
            as lockout_win
),

failures as (
    select a.* from auth as a where a.outcome in ('failure', 'lockout')
),

-- each failure with the number of failures of the same account in the window before it
per_user as (
    select
        f.*,
        count(*) over (
            partition by f.source_system, f.principal order by f.event_ts
            range between (select win from params) preceding and current row
        ) as n_in_window
    from failures as f
    where f.outcome = 'failure'
),

-- each failure with the distinct accounts failing from the same source IP in the window
per_ip as (
    select
        f.auth_event_id,
        f.source_system,
        f.src_ip,
        f.event_ts,
        f.application,
        count(distinct g.principal) as n_in_window
    from failures as f
    inner join failures as g
        on f.src_ip = g.src_ip
        and f.source_system = g.source_system
        and g.event_ts > f.event_ts - (select win from params)
        and g.event_ts <= f.event_ts
    where f.outcome = 'failure' and f.src_ip is not null
    group by f.auth_event_id, f.source_system, f.src_ip, f.event_ts, f.application
),

lockouts as (
    select
        f.*,
        count(*) over (
            partition by f.source_system order by f.event_ts
            range between (select lockout_win from params) preceding and current row
        ) as n_in_window
    from failures as f
    where f.outcome = 'lockout'
),

successes as (
    select
        s.*,
        (
            select count(*) from failures as f
            where f.source_system = s.source_system
                and f.event_ts >= s.event_ts - (select win from params)
                and f.event_ts < s.event_ts
                and (f.src_ip = s.src_ip or f.principal = s.principal)
        ) as n_in_window
    from auth as s
    where s.outcome = 'success' and s.source_system = 'keycloak'
),

flagged as (
    select
        'user_bruteforce' as detection_type, source_system, principal as group_key,
        principal, src_ip, application, event_ts, n_in_window,
        (select bruteforce_min from params) as threshold_used
    from per_user where n_in_window >= (select bruteforce_min from params)
    union all
    select
        'password_spray', source_system, src_ip, cast(null as text), src_ip, application,
        event_ts, n_in_window, (select spray_min from params)
    from per_ip where n_in_window >= (select spray_min from params)
    union all
    select
        'lockout_burst', source_system, 'all', cast(null as text), cast(null as text),
        application, event_ts, n_in_window, (select lockouts_min from params)
    from lockouts where n_in_window >= (select lockouts_min from params)
    union all
    select
        'success_after_failures', source_system, principal, principal, src_ip, application,
        event_ts, n_in_window, (select success_after_min from params)
    from successes where n_in_window >= (select success_after_min from params)
),

-- consecutive flagged events of one key closer than the window form one detection
episodes as (
    select
        *,
        sum(case when prev_ts is null or event_ts - prev_ts > (select win from params) then 1 else 0 end)
            over (partition by detection_type, source_system, group_key order by event_ts)
            as episode
    from (
        select
            *,
            lag(event_ts) over (
                partition by detection_type, source_system, group_key order by event_ts
            ) as prev_ts
        from flagged
    ) as f
),

detections as (
    select
        detection_type,
        source_system,
        group_key,
        min(principal) as principal,
        min(src_ip) as src_ip,
        min(application) as application,
        min(event_ts) - (select win from params) as lookback_start,
        min(event_ts) as first_flag_at,
        max(event_ts) as window_end,
        max(n_in_window) as peak_in_window,
        max(threshold_used) as threshold_used
    from episodes
    group by detection_type, source_system, group_key, episode
),

measured as (
    select
        d.*,
        (
            select min(f.event_ts) from failures as f
            where f.source_system = d.source_system
                and f.event_ts between d.lookback_start and d.window_end
                and (f.principal = d.group_key or f.src_ip = d.group_key or d.group_key = 'all')
        ) as window_start,
        (
            select count(*) from failures as f
            where f.source_system = d.source_system and f.outcome = 'failure'
                and f.event_ts between d.lookback_start and d.window_end
                and (f.principal = d.group_key or f.src_ip = d.group_key or d.group_key = 'all')
        ) as failures,
        (
            select count(distinct f.principal) from failures as f
            where f.source_system = d.source_system
                and f.event_ts between d.lookback_start and d.window_end
                and (f.principal = d.group_key or f.src_ip = d.group_key or d.group_key = 'all')
        ) as distinct_users,
        (
            select count(distinct f.src_ip) from failures as f
            where f.source_system = d.source_system
                and f.event_ts between d.lookback_start and d.window_end
                and (f.principal = d.group_key or f.src_ip = d.group_key or d.group_key = 'all')
        ) as distinct_ips,
        (
            select count(*) from failures as f
            where f.source_system = d.source_system and f.outcome = 'lockout'
                and f.event_ts between d.lookback_start and d.window_end
                and (f.principal = d.group_key or f.src_ip = d.group_key or d.group_key = 'all')
        ) as lockouts,
        (
            select min(a.alert_id) from {{ ref('stg_wazuh__alerts') }} as a
            where a.event_ts between d.lookback_start and d.window_end + interval '30 minutes'
                and a.rule_level >= 10
                and a.src_ip = d.src_ip
        ) as siem_alert_id
    from detections as d
)

select
    md5(detection_type || '|' || source_system || '|' || group_key || '|' || first_flag_at)
        as detection_id,
    detection_type,
    source_system,
    {{ pseudonymise('principal') }} as principal_key,
    {{ pseudonymise('src_ip') }} as src_ip_key,
    application,
    coalesce(window_start, first_flag_at) as window_start,
    window_end,
    first_flag_at as detected_at,
    failures,
    distinct_users,
    distinct_ips,
    lockouts,
    peak_in_window,
    threshold_used,
    siem_alert_id is not null as alert_raised_in_siem,
    siem_alert_id
from measured
