-- Keycloak credentials (Annex 11.7 evidence of enrolled second factors). Full-table copies:
-- a credential Keycloak dropped is soft-deleted by the loader; its deletion time is kept so a
-- log-in before the removal still counts as covered.
{{ latest_version(source('keycloak', 'credential'), 'id') }}

select
    cast(id as text) as credential_id,
    cast(user_id as text) as user_id,
    lower(cast(type as text)) as credential_type,
    {{ epoch_ms_to_utc('created_date') }} as created_at,
    {{ parse_utc('_sdc_deleted_at') }} as removed_at,
    {{ parse_utc('_sdc_batched_at') }} as loaded_at
from latest
where version_rank = 1
