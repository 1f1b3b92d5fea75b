-- Each Annex requirement per month with an honest status (Annex 2.2.2 compliance reporting,
-- 7.2 what is measured): pass / fail from a metric computed on event data, no_data when the
-- metric had nothing to judge, manual_required when no automated evidence exists, and
-- not_applicable_documented when, lacking evidence, an entity-wide non-applicability decision
-- of the exceptions register (M16; IR Art. 2(2) second subparagraph) was valid at the month's
-- end (as_of for the running month). Every requirement appears every month; no_data is never
-- counted as pass, and an exception never hides evidence that was measured.
with requirements as (
    select * from {{ ref('nis2_annex_requirements') }}
),

months as (
    select distinct month from {{ ref('int_control_metrics_monthly') }}
),

-- the log sources each metric rests on (seed control_metrics), and those of them that
-- delivered no event on any day of the month
metric_sources as (
    select
        c.metric_code,
        trim(a.asset_id) as asset_id
    from {{ ref('control_metrics') }} as c
    cross join lateral unnest(string_to_array(c.source_assets, ';')) as a (asset_id)
    where nullif(trim(a.asset_id), '') is not null
),

silent_sources as (
    select
        cast(date_trunc('month', day) as date) as month,
        asset_id
    from {{ ref('mart_nis2_log_source_coverage') }}
    group by 1, 2
    having sum(events) = 0
),

metric_silence as (
    select
        m.month,
        s.metric_code,
        count(*) as sources,
        count(q.asset_id) as silent_sources,
        string_agg(q.asset_id, ', ' order by q.asset_id) as silent_assets
    from months as m
    cross join metric_sources as s
    left join silent_sources as q on m.month = q.month and s.asset_id = q.asset_id
    group by m.month, s.metric_code
),

-- exceptions valid at each month's reference instant (month end, or as_of while running)
month_exceptions as (
    select
        m.month,
        r.ref_id,
        string_agg(e.exception_id, ';' order by e.exception_id) as exception_ids,
        bool_or(e.scope_type = 'entity') as not_applicable
    from months as m
    cross join {{ ref('nis2_annex_requirements') }} as r
    inner join {{ ref('mart_nis2_exceptions_register') }} as e
        on
            (r.ref_id = e.annex_ref or r.ref_id like e.annex_ref || '.%')
            and e.approved_at <= least(m.month + interval '1 month', {{ as_of() }})
            and e.expires_at > least(m.month + interval '1 month', {{ as_of() }})
            and e.invalid_fields is null  -- an unreadable row exempts nothing
    group by m.month, r.ref_id
),

metrics as (
    select * from {{ ref('int_control_metrics_monthly') }}
),

judged as (
    select
        r.ref_id || ':' || m.month as matrix_id,
        m.month,
        r.ref_id,
        r.annex_section,
        r.requirement_summary as requirement_text,
        r.dir_art21_point,
        r.iso27001_controls,
        r.evidence_models,
        nullif(r.metric_code, '') as metric_code,
        x.metric_value,
        x.target,
        cm.target_rule,
        coalesce(x.evidence_rows, 0) as evidence_rows,
        cast(m.month as timestamptz) as evidence_window_start,
        least(cast(m.month + interval '1 month' as timestamptz), {{ as_of() }})
            as evidence_window_end,
        ms.silent_assets,
        coalesce(ms.sources > 0 and ms.silent_sources = ms.sources, false) as all_sources_silent,
        case
            when
                e.not_applicable
                and (
                    nullif(r.metric_code, '') is null
                    or x.metric_code is null or x.evidence_rows = 0 or x.metric_value is null
                )
                then 'not_applicable_documented'
            when nullif(r.metric_code, '') is null then 'manual_required'
            when r.metric_code = 'management_report_signed_off' and coalesce(x.evidence_rows, 0) = 0
                then 'manual_required'
            when ms.sources > 0 and ms.silent_sources = ms.sources then 'no_data'
            when x.metric_code is null or x.evidence_rows = 0 or x.metric_value is null then 'no_data'
            when coalesce(x.passed, x.metric_value <= x.target) then 'pass'
            else 'fail'
        end as status,
        x.last_evidence_at,
        e.exception_ids
    from requirements as r
    cross join months as m
    left join metrics as x on r.metric_code = x.metric_code and m.month = x.month
    left join month_exceptions as e on r.ref_id = e.ref_id and m.month = e.month
    left join {{ ref('control_metrics') }} as cm on r.metric_code = cm.metric_code
    left join metric_silence as ms on r.metric_code = ms.metric_code and m.month = ms.month
)

select
    matrix_id,
    month,
    ref_id,
    annex_section,
    requirement_text,
    dir_art21_point,
    iso27001_controls,
    evidence_models,
    metric_code,
    metric_value,
    target,
    target_rule,
    evidence_rows,
    evidence_window_start,
    evidence_window_end,
    status,
    -- why the status is what it is, in words an auditor can check against the evidence rows
    case
        when status = 'not_applicable_documented'
            then 'not applicable by entity-wide exception ' || exception_ids
        when status = 'manual_required' then 'no automated evidence: manual evidence required'
        when status = 'no_data' and all_sources_silent
            then 'no_data: every source of this metric was silent all period (' || silent_assets || ')'
        when status = 'no_data' and metric_code = 'log_integrity'
            then 'no_data: days not verified since they were sealed (run nis2-verify-logs)'
        when status = 'no_data' then 'no_data: no evidence rows in the period'
        else status || ': ' || metric_code || ' = ' || metric_value
            || coalesce(' vs target ' || target, '') || ' (' || target_rule || '), '
            || evidence_rows || ' evidence rows'
            || coalesce('; silent all period: ' || silent_assets, '')
    end as status_reason,
    silent_assets,
    -- the latest evidence inside the evidence window (never after it, never in the future)
    case when last_evidence_at <= evidence_window_end then last_evidence_at end
        as last_evidence_at,
    exception_ids
from judged
