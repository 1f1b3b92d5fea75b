-- M10. MFA coverage per day, application (Keycloak client), principal class and exposure
-- (Dir. Art. 21(2)(j); Annex 11.7.1-11.7.2, 11.3.2(a)): the share of log-ins made by accounts
-- with a second factor enrolled at that moment, its phishing-resistant share (TIG tiers), and
-- the policy target per class and exposure. Log-ins without a factor but covered by a valid
-- exception (M16) are counted separately and left out of the percentages, never hidden.
with logins as not materialized (
    select * from {{ ref('int_keycloak_logins_mfa') }}
),

daily as (
    select
        cast(event_ts at time zone 'UTC' as date) as day,
        application,
        principal_class,
        internet_facing,
        count(*) as logins,
        count(*) filter (where has_mfa) as logins_with_mfa,
        count(*) filter (where phishing_resistant) as logins_phishing_resistant,
        count(*) filter (where not has_mfa and exception_id is not null) as exceptions_applied,
        count(*) filter (
            where principal_class = 'privileged' and not has_mfa and exception_id is null
        ) as privileged_logins_without_mfa
    from logins
    group by 1, 2, 3, 4
),

-- the few excepted log-ins apart: a distinct list over every log-in would sort them all
applied as (
    select
        cast(event_ts at time zone 'UTC' as date) as day,
        application,
        principal_class,
        internet_facing,
        string_agg(distinct exception_id, ';' order by exception_id) as exception_ids
    from logins
    where exception_id is not null
    group by 1, 2, 3, 4
),

scoped as (
    select
        d.*,
        a.exception_ids,
        d.logins - d.exceptions_applied as logins_in_scope,
        t.target_mfa_pct
    from daily as d
    left join applied as a
        on
            d.day = a.day
            and d.application = a.application
            and d.principal_class = a.principal_class
            and d.internet_facing = a.internet_facing
    left join {{ ref('mfa_policy_targets') }} as t
        on d.principal_class = t.principal_class and d.internet_facing = t.internet_facing
)

select
    day || ':' || application || ':' || principal_class || ':' || internet_facing
        as mfa_coverage_id,
    day,
    application,
    principal_class,
    internet_facing,
    logins,
    logins_with_mfa,
    logins_phishing_resistant,
    exceptions_applied,
    exception_ids,
    logins_in_scope,
    round(100.0 * logins_with_mfa / nullif(logins_in_scope, 0), 1) as mfa_pct,
    round(100.0 * logins_phishing_resistant / nullif(logins_in_scope, 0), 1)
        as phishing_resistant_pct,
    privileged_logins_without_mfa,
    target_mfa_pct,
    case
        when logins_in_scope = 0 then 'all_excepted'
        when target_mfa_pct is null then 'no_target'
        when 100.0 * logins_with_mfa / logins_in_scope >= target_mfa_pct then 'met'
        else 'below_target'
    end as target_status
from scoped
