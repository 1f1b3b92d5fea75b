-- Authentication-attack detections over sliding windows (Annex 3.2.3(d), 3.2.4, 11.6.2(d)):
-- brute force on one account, password spray from one source, lockout bursts (TIG: >= 3 in
-- 15 min) and a success after failures. Each detection says whether the SIEM raised an alarm;
-- one that it did not is a monitoring false negative (Annex 3.2.2).
-- Incremental: per source system, the detections from a cut before the earliest new event
-- are recomputed (macros/auth_windows.sql explains the cut); an older detection whose window
-- a new SIEM alert falls into gets that alert.
{{ config(
    materialized='incremental',
    unique_key='detection_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[
        {'columns': ['detection_id'], 'unique': True},
        {'columns': ['source_system', 'detected_at']},
    ],
    pre_hook=[
        "{{ local_work_mem() }}",
        "{{ reset_watermark_on_full_build() }}",
        "{{ create_key_snapshot('users') }}",
        "{% if is_incremental() %}{{ auth_detection_cuts() }}{% endif %}",
    ],
    post_hook=[
        "{% for m in ['stg_didit__audit_logs', 'stg_keycloak__events'] %}
        {{ save_watermark(ref(m), name=this.identifier ~ ':' ~ m) }};
        {% endfor %}",
        "{{ save_key_snapshot(keycloak_principals_sql(), 'users') }}",
        "{{ save_watermark(ref('stg_wazuh__alerts'), name=this.identifier ~ ':stg_wazuh__alerts') }}",
    ]
) }}

-- the pre-hook reads {{ ref('stg_didit__audit_logs') }} and {{ ref('stg_keycloak__events') }}
with params as (
    select
        make_interval(mins => cast({{ policy('BRUTEFORCE_WINDOW_MINUTES') }} as integer)) as win,
        {{ policy('BRUTEFORCE_FAILURES') }} as bruteforce_min,
        {{ policy('SPRAY_DISTINCT_USERS') }} as spray_min,
        {{ policy('SUCCESS_AFTER_FAILURES_MIN') }} as success_after_min,
        {{ threshold('TIG_LOCKOUTS_COUNT') }} as lockouts_min,
        make_interval(mins => cast({{ threshold('TIG_LOCKOUTS_WINDOW_MINUTES') }} as integer))
            as lockout_win
),

{% if is_incremental() %}
    cuts as (
        select
            source_system,
            cut_at
        from auth_detection_cuts
    ),
{% endif %}

-- the events that can decide a detection from the cut on (all of them in a full build)
auth as (
    select a.*
    from {{ ref('int_auth_events') }} as a
    {% if is_incremental() %}
        inner join cuts as c
            on a.source_system = c.source_system
                and a.event_ts >= c.cut_at - {{ auth_detection_lookback() }}
    {% endif %}
),

failures as (
    select a.*
    from auth as a
    where a.outcome in ('failure', 'lockout')
),

-- each failure with the number of failures of the same account in the window before it
per_user as (
    select
        f.*,
        count(*) over (
            partition by f.source_system, f.principal order by f.event_ts
            range between (select win from params) preceding and current row  -- noqa: PRS
        ) as n_in_window
    from failures as f
    where f.outcome = 'failure'
),

-- distinct accounts failing from one source IP: counted over the current and the previous
-- window-sized bucket (an exact sliding count distinct would need a quadratic self-join)
ip_buckets as (
    select
        source_system,
        src_ip,
        principal,
        floor(extract(epoch from event_ts) / extract(epoch from (select p.win from params as p)))
            as bucket,
        max(event_ts) as last_ts,
        min(application) as application
    from failures
    where outcome = 'failure' and src_ip is not null
    group by 1, 2, 3, 4
),

-- each bucket's accounts, also offered to the next bucket, so the join stays an equi-join
ip_buckets_reach as (
    select
        source_system,
        src_ip,
        principal,
        bucket
    from ip_buckets
    union all
    select
        source_system,
        src_ip,
        principal,
        bucket + 1
    from ip_buckets
),

-- buckets that can reach the threshold at all (accounts in it plus in the bucket before):
-- the count-distinct join below is made for these only
spray_candidates as (
    select
        k.source_system,
        k.src_ip,
        k.bucket
    from (
        select
            source_system,
            src_ip,
            bucket,
            count(*) as n,
            lag(bucket) over by_ip as prev_bucket,
            lag(count(*)) over by_ip as prev_n
        from ip_buckets
        group by source_system, src_ip, bucket
        window by_ip as (partition by source_system, src_ip order by bucket)
    ) as k
    cross join params as p
    where k.n + case when k.prev_bucket = k.bucket - 1 then k.prev_n else 0 end >= p.spray_min
),

per_ip as (
    select
        b.source_system,
        b.src_ip,
        b.bucket,
        max(b.last_ts) as event_ts,
        min(b.application) as application,
        count(distinct c.principal) as n_in_window
    from ip_buckets as b
    inner join spray_candidates as k
        on b.source_system = k.source_system
            and b.src_ip = k.src_ip
            and b.bucket = k.bucket
    inner join ip_buckets_reach as c
        on b.source_system = c.source_system
            and b.src_ip = c.src_ip
            and b.bucket = c.bucket
    group by b.source_system, b.src_ip, b.bucket
),

lockouts as (
    select
        f.*,
        count(*) over (
            partition by f.source_system order by f.event_ts
            range between (select lockout_win from params) preceding and current row  -- noqa: PRS
        ) as n_in_window
    from failures as f
    where f.outcome = 'lockout'
),

-- a Keycloak success preceded within the window by failures from its IP or of its account
keycloak_attempts as (
    select
        source_system,
        principal,
        src_ip,
        application,
        event_ts,
        outcome,
        count(*) filter (where outcome = 'failure') over (
            partition by src_ip order by event_ts
            range between (select win from params) preceding and current row  -- noqa: PRS
        ) as ip_failures,
        count(*) filter (where outcome = 'failure') over (
            partition by principal order by event_ts
            range between (select win from params) preceding and current row  -- noqa: PRS
        ) as user_failures
    from auth
    where source_system = 'keycloak'
),

successes as (
    select
        *,
        greatest(ip_failures, user_failures) as n_in_window
    from keycloak_attempts
    where outcome = 'success'
),

flagged_all as (
    select
        'user_bruteforce' as detection_type,
        u.source_system,
        u.principal as group_key,
        u.principal,
        u.src_ip,
        u.application,
        u.event_ts,
        u.n_in_window,
        p.bruteforce_min as threshold_used
    from per_user as u
    cross join params as p
    where u.n_in_window >= p.bruteforce_min
    union all
    select
        'password_spray',
        i.source_system,
        i.src_ip as group_key,
        cast(null as text),
        i.src_ip,
        i.application,
        i.event_ts,
        i.n_in_window,
        p.spray_min
    from per_ip as i
    cross join params as p
    where i.n_in_window >= p.spray_min
    union all
    select
        'lockout_burst',
        l.source_system,
        'all',
        cast(null as text),
        cast(null as text),
        l.application,
        l.event_ts,
        l.n_in_window,
        p.lockouts_min
    from lockouts as l
    cross join params as p
    where l.n_in_window >= p.lockouts_min
    union all
    select
        'success_after_failures',
        s.source_system,
        s.principal as group_key,
        s.principal,
        s.src_ip,
        s.application,
        s.event_ts,
        s.n_in_window,
        p.success_after_min
    from successes as s
    cross join params as p
    where s.n_in_window >= p.success_after_min
),

-- flags before the cut belong to detections that stay as they are
flagged as (
    select f.*
    from flagged_all as f
    {% if is_incremental() %}
        inner join cuts as c on f.source_system = c.source_system and f.event_ts >= c.cut_at
    {% endif %}
),

-- consecutive flagged events of one key closer than the window form one detection
episodes as (
    select
        f.*,
        sum(
            case when f.prev_ts is null or f.event_ts - f.prev_ts > p.win then 1 else 0 end
        ) over (partition by f.detection_type, f.source_system, f.group_key order by f.event_ts)
            as episode
    from (
        select
            *,
            lag(event_ts) over (
                partition by detection_type, source_system, group_key order by event_ts
            ) as prev_ts
        from flagged
    ) as f
    cross join params as p
),

detections as (
    select
        detection_type,
        source_system,
        group_key,
        min(principal) as principal,
        min(src_ip) as src_ip,
        min(application) as application,
        min(event_ts) - (select p.win from params as p) as lookback_start,
        min(event_ts) as first_flag_at,
        max(event_ts) as window_end,
        max(n_in_window) as peak_in_window,
        max(threshold_used) as threshold_used
    from episodes
    group by detection_type, source_system, group_key, episode
),

in_window as (
    -- the failures that make up each detection, joined by its key (account, IP or all)
    {% set joins = [
        ("'user_bruteforce', 'success_after_failures'", "d.group_key = f.principal"),
        ("'password_spray', 'success_after_failures'", "d.group_key = f.src_ip"),
        ("'lockout_burst'", "f.outcome = 'lockout'"),
    ] %}
    {% for detection_types, key_condition in joins %}
        select
            d.detection_type,
            d.source_system,
            d.group_key,
            d.first_flag_at,
            f.auth_event_id,
            f.event_ts,
            f.outcome,
            f.principal,
            f.src_ip
        from detections as d
        -- read through the index on source and event time: a detection spans minutes
        cross join
            lateral (
                select
                    f.auth_event_id,
                    f.event_ts,
                    f.outcome,
                    f.principal,
                    f.src_ip
                from {{ ref('int_auth_events') }} as f
                where f.source_system = d.source_system
                    and f.event_ts between d.lookback_start and d.window_end
                    and f.outcome in ('failure', 'lockout')
                    and {{ key_condition }}
            ) as f
        where d.detection_type in ({{ detection_types }})
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

counted as (
    select
        detection_type,
        source_system,
        group_key,
        first_flag_at,
        min(event_ts) as window_start,
        count(distinct auth_event_id) filter (where outcome = 'failure') as failures,
        count(distinct principal) as distinct_users,
        count(distinct src_ip) as distinct_ips,
        count(distinct auth_event_id) filter (where outcome = 'lockout') as lockouts
    from in_window
    group by detection_type, source_system, group_key, first_flag_at
),

measured as (
    select
        d.*,
        c.window_start,
        coalesce(c.failures, 0) as failures,
        coalesce(c.distinct_users, 0) as distinct_users,
        coalesce(c.distinct_ips, 0) as distinct_ips,
        coalesce(c.lockouts, 0) as lockouts,
        (
            select min(a.alert_id) from {{ ref('stg_wazuh__alerts') }} as a
            where a.event_ts between d.lookback_start and d.window_end + interval '30 minutes'
                and a.rule_level >= 10
                and a.src_ip = d.src_ip
        ) as siem_alert_id
    from detections as d
    left join counted as c
        on d.detection_type = c.detection_type
            and d.source_system = c.source_system
            and d.group_key = c.group_key
            and d.first_flag_at = c.first_flag_at
),

{% if is_incremental() %}
    -- SIEM alerts loaded since the last build, for the detections kept from it
    new_alerts as materialized (
        select
            a.alert_id,
            a.event_ts,
            {{ pseudonymise('a.src_ip') }} as src_ip_key
        from {{ ref('stg_wazuh__alerts') }} as a
        where {{ new_since_last_build('a.loaded_at', 'stg_wazuh__alerts') }}
            and a.rule_level >= 10
            and a.src_ip is not null
    ),

    realerted as (
        select
            k.detection_id,
            min(a.alert_id) as alert_id
        from {{ this }} as k
        inner join new_alerts as a
            on k.src_ip_key = a.src_ip_key
                and a.event_ts between k.detected_at - (select p.win from params as p)
                and k.window_end + interval '30 minutes'
        group by k.detection_id
    ),
{% endif %}

recomputed as (
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
)


select * from recomputed
{% if is_incremental() %}
    union all
    select
        k.detection_id,
        k.detection_type,
        k.source_system,
        k.principal_key,
        k.src_ip_key,
        k.application,
        k.window_start,
        k.window_end,
        k.detected_at,
        k.failures,
        k.distinct_users,
        k.distinct_ips,
        k.lockouts,
        k.peak_in_window,
        k.threshold_used,
        true as alert_raised_in_siem,
        least(k.siem_alert_id, r.alert_id) as siem_alert_id
    from {{ this }} as k
    inner join realerted as r on k.detection_id = r.detection_id
    where k.siem_alert_id is null or r.alert_id < k.siem_alert_id
{% endif %}
