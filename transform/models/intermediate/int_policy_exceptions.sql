-- The exceptions register typed (seed policy_exceptions, a hand-kept file): a row with a
-- missing or malformed cell is kept, exempts nothing, and names the fields in invalid_fields
-- so one typo never stops the build or silently widens an exemption.
-- Cells are read as text whatever type an older load of the seed gave them.
with register as (
    select
        cast(exception_id as text) as exception_id,
        cast(annex_ref as text) as annex_ref,
        cast(scope_type as text) as scope_type,
        cast(scope_value as text) as scope_value,
        cast(reason as text) as reason,
        cast(compensating_controls as text) as compensating_controls,
        cast(approved_by as text) as approved_by,
        cast(approved_at as text) as approved_at,
        cast(expires_at as text) as expires_at,
        cast(linked_metric as text) as linked_metric,
        cast(source_citation as text) as source_citation
    from {{ ref('policy_exceptions') }}
)

select
    trim(exception_id) as exception_id,
    trim(annex_ref) as annex_ref,
    lower(trim(scope_type)) as scope_type,
    trim(scope_value) as scope_value,
    reason,
    compensating_controls,
    approved_by,
    {{ try_parse_utc('approved_at') }} as approved_at,
    {{ try_parse_utc('expires_at') }} as expires_at,
    nullif(trim(linked_metric), '') as linked_metric,
    source_citation,
    concat_ws(
        ', ',
        case when nullif(trim(annex_ref), '') is null then 'annex_ref' end,
        case
            when lower(trim(scope_type)) is null
                or lower(trim(scope_type))
                not in ('asset', 'user', 'application', 'service_account', 'entity')
                then 'scope_type'
        end,
        case when nullif(trim(scope_value), '') is null then 'scope_value' end,
        case when nullif(trim(reason), '') is null then 'reason' end,
        case when nullif(trim(approved_by), '') is null then 'approved_by' end,
        case
            when nullif(trim(approved_at), '') is null then 'approved_at'
            else {{ invalid_if('approved_at', 'ts', 'approved_at') }}
        end,
        case
            when nullif(trim(expires_at), '') is null then 'expires_at'
            else {{ invalid_if('expires_at', 'ts', 'expires_at') }}
        end
    ) as invalid_fields
from register
