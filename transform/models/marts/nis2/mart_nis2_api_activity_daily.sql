-- Didit API and Console activity per day, application, method and status class (Annex
-- 3.2.3(a)(c)(h), 3.2.4). spike_flag applies the TIG 3.2.4 example (more than +50 % over normal)
-- to each user or API key: their requests that day against the median of the same weekday in
-- the trailing weeks, above a noise floor (internal policy). A bulk download by one account
-- stands out even when the organisation's total traffic barely moves.
-- Incremental by day: a run recomputes the days that received audit entries since the last
-- build, and the same weekday of the following baseline weeks (their median moved too).
{{ incremental_by_day_config('stg_didit__audit_logs') }}

with
{% if is_incremental() %}
    changed_days as (
        select distinct cast(l.event_ts at time zone 'UTC' as date) as day
        from {{ ref('stg_didit__audit_logs') }} as l
        where {{ loaded_after_watermark('l.loaded_at') }}
    ),

    baseline_weeks as (
        select w.weeks
        from generate_series(0, cast({{ policy('SPIKE_BASELINE_WEEKS') }} as integer)) as w (weeks)
    ),

    recompute_days as (
        select distinct c.day + 7 * w.weeks as day
        from changed_days as c cross join baseline_weeks as w
    ),

    -- the recomputed days and the baseline weeks behind them
    read_days as (
        select distinct r.day - 7 * w.weeks as day
        from recompute_days as r cross join baseline_weeks as w
    ),
{% endif %}

-- one row per principal and group, from the per-day intermediate (the audit entries were
-- read and grouped there once)
per_principal as (
    select
        p.day,
        p.application,
        p.http_method,
        p.status_class,
        p.principal,
        p.requests,
        p.err_4xx,
        p.err_5xx,
        p.auth_fail_401_403,
        p.writes,
        p.admin_path_writes
    from {{ ref('int_api_requests_by_principal_daily') }} as p
    {% if is_incremental() %}
        where p.day in (select d.day from read_days as d)
    {% endif %}
),

principal_baseline as (
    select
        p.day,
        p.application,
        p.http_method,
        p.status_class,
        p.principal,
        p.requests,
        percentile_cont(0.5) within group (order by b.requests) as baseline_median,
        count(b.requests) as baseline_days
    from per_principal as p
    cross join generate_series(1, cast({{ policy('SPIKE_BASELINE_WEEKS') }} as integer)) as w (weeks_back)
    left join per_principal as b
        on b.day = p.day - 7 * w.weeks_back
            and p.application = b.application
            and p.http_method = b.http_method
            and p.status_class = b.status_class
            and p.principal = b.principal
    group by p.day, p.application, p.http_method, p.status_class, p.principal, p.requests
),

spikes as (
    select
        day,
        application,
        http_method,
        status_class,
        count(*) filter (
            where baseline_days >= 2
            and requests >= {{ policy('SPIKE_MIN_REQUESTS') }}
            and requests > baseline_median * (1 + {{ threshold('TIG_SPIKE_PCT') }} / 100.0)
        ) as spiking_principals,
        sum(baseline_median) as baseline_median
    from principal_baseline
    group by day, application, http_method, status_class
),

daily as (
    select
        day,
        application,
        http_method,
        status_class,
        cast(sum(requests) as bigint) as requests,
        count(*) as distinct_users,
        cast(sum(err_4xx) as bigint) as err_4xx,
        cast(sum(err_5xx) as bigint) as err_5xx,
        cast(sum(auth_fail_401_403) as bigint) as auth_fail_401_403,
        cast(sum(writes) as bigint) as writes,
        cast(sum(admin_path_writes) as bigint) as admin_path_writes
    from per_principal
    group by day, application, http_method, status_class
)

select
    d.day || ':' || d.application || ':' || d.http_method || ':' || d.status_class
        as activity_id,
    d.*,
    s.baseline_median,
    case when s.baseline_median > 0
            then round(cast(100.0 * (d.requests - s.baseline_median) / s.baseline_median as numeric), 1)
    end as pct_vs_baseline,
    s.spiking_principals,
    s.spiking_principals > 0 as spike_flag
from daily as d
inner join spikes as s
    on d.day = s.day
        and d.application = s.application
        and d.http_method = s.http_method
        and d.status_class = s.status_class
{% if is_incremental() %}
    where d.day in (select r.day from recompute_days as r)
{% endif %}
