-- Didit API and Console activity per day, application, method and status class (Annex
-- 3.2.3(a)(c)(h), 3.2.4), with a spike flag: more than the TIG's +50 % over the median of the
-- same weekday in the trailing weeks (internal policy: number of weeks and a noise floor).
with requests as (
    select
        cast(event_ts at time zone 'UTC' as date) as day,
        coalesce(application_name, 'didit-console') as application,
        http_method,
        (status_code / 100) || 'xx' as status_class,
        status_code,
        coalesce(actor, api_key_name, request_email) as principal,
        request_path
    from {{ ref('stg_didit__audit_logs') }}
),

admin_paths as (
    select path_pattern from {{ ref('admin_paths') }} where source_system = 'didit'
),

daily as (
    select
        day,
        application,
        http_method,
        status_class,
        count(*) as requests,
        count(distinct principal) as distinct_users,
        count(*) filter (where status_code between 400 and 499) as err_4xx,
        count(*) filter (where status_code >= 500) as err_5xx,
        count(*) filter (where status_code in (401, 403)) as auth_fail_401_403,
        count(*) filter (where http_method in ('POST', 'PUT', 'PATCH', 'DELETE')) as writes,
        count(*) filter (
            where http_method in ('POST', 'PUT', 'PATCH', 'DELETE')
                and exists (select 1 from admin_paths as p where request_path ~ p.path_pattern)
        ) as admin_path_writes
    from requests
    group by day, application, http_method, status_class
),

baseline as (
    select
        d.day,
        d.application,
        d.http_method,
        d.status_class,
        percentile_cont(0.5) within group (order by b.requests) as baseline_median,
        count(b.requests) as baseline_days
    from daily as d
    cross join generate_series(
        1, cast({{ policy('SPIKE_BASELINE_WEEKS') }} as integer)
    ) as w (weeks_back)
    left join daily as b
        on b.day = d.day - 7 * w.weeks_back
        and b.application = d.application
        and b.http_method = d.http_method
        and b.status_class = d.status_class
    group by d.day, d.application, d.http_method, d.status_class
)

select
    d.day || ':' || d.application || ':' || d.http_method || ':' || d.status_class
        as activity_id,
    d.*,
    b.baseline_median,
    b.baseline_days,
    case when b.baseline_median > 0
        then round(cast(100.0 * (d.requests - b.baseline_median) / b.baseline_median as numeric), 1)
    end as pct_vs_baseline,
    coalesce(
        b.baseline_days >= 2
        and d.requests >= {{ policy('SPIKE_MIN_REQUESTS') }}
        and d.requests > b.baseline_median * (1 + {{ threshold('TIG_SPIKE_PCT') }} / 100.0),
        false
    ) as spike_flag
from daily as d
inner join baseline as b
    on d.day = b.day
    and d.application = b.application
    and d.http_method = b.http_method
    and d.status_class = b.status_class
