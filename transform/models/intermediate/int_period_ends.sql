-- One row per month of the log history up to as_of: the month and the instant it is judged at
-- (the start of the next month, or as_of while the month runs). Period-end evidence reads it.
select
    cast(g.m as date) as month,
    least(g.m + interval '1 month', {{ as_of() }}) as period_end_at
from generate_series(
        (select date_trunc('month', min(event_ts)) from {{ ref('int_security_events_unified') }}),
        date_trunc('month', {{ as_of() }}),
        interval '1 month'
    ) as g (m)
