-- M16. The exceptions register (IR 2024/2690 Art. 2(2) second subparagraph: reasoning for
-- "where appropriate / applicable / feasible" documented; Annex 2.2.1 log of policy exceptions;
-- 6.6.2 documented non-patching), with expiry judged at the as_of instant so a lapsed exception
-- never keeps exempting anything. User scopes are pseudonymised like every person in a mart.
-- A row with a malformed or missing cell is shown as invalid (naming the fields) and is never
-- valid.
with exceptions as (
    select * from {{ ref('int_policy_exceptions') }}
),

params as (
    select
        {{ as_of() }} as as_of_ts,
        make_interval(days => cast((
            select value from {{ ref('governance_policy') }}
            where policy_code = 'EXCEPTION_EXPIRY_WARNING_DAYS'
        ) as integer)) as warning_window
),

judged as (
    select
        e.*,
        p.as_of_ts,
        e.expires_at <= p.as_of_ts as expired,
        e.expires_at > p.as_of_ts
        and e.expires_at <= p.as_of_ts + p.warning_window as expiring_within_30_days,
        e.approved_at > p.as_of_ts as not_yet_approved
    from exceptions as e
    cross join params as p
)

select
    exception_id,
    annex_ref,
    scope_type,
    case
        -- only scopes known to name no person stay readable; a mistyped scope type may hold
        -- an e-mail address
        when scope_type in ('asset', 'application', 'entity', 'service_account') then scope_value
        else {{ pseudonymise('scope_value') }}
    end as scope_value,
    reason,
    compensating_controls,
    approved_by,
    approved_at,
    expires_at,
    linked_metric,
    expired,
    expiring_within_30_days,
    floor(extract(epoch from (expires_at - as_of_ts)) / 86400) as days_to_expiry,
    case
        when invalid_fields != '' then 'invalid'
        when not_yet_approved then 'not_yet_approved'
        when expired then 'expired'
        when expiring_within_30_days then 'expiring'
        else 'valid'
    end as status,
    -- a row with an unreadable cell never exempts, whatever its dates say
    coalesce(coalesce(invalid_fields, '') = '' and not expired and not not_yet_approved, false)
        as is_valid,
    nullif(invalid_fields, '') as invalid_fields,
    source_citation
from judged
