{{ event_fact_config('audit_log_id', 'didit', 'audit_logs') }}
{{ latest_version(source('didit', 'audit_logs'), 'uuid', incremental=true) }}

select
    cast(uuid as text) as audit_log_id,
    {{ column_to_utc(source('didit', 'audit_logs'), 'timestamp', '"timestamp"') }} as event_ts,
    upper(cast(actor_type as text)) as actor_type,
    cast(actor as text) as actor,
    cast(api_key_name as text) as api_key_name,
    upper(cast(method as text)) as http_method,
    cast(path as text) as request_path,
    cast(status_code as integer) as status_code,
    cast(ip_address as text) as ip_address,
    upper(cast(country as text)) as country_code,
    cast(user_agent as text) as user_agent,
    cast(application_id as text) as application_id,
    cast(application_name as text) as application_name,
    request_body is not null as has_request_body,
    -- the Console masks secrets and personal values in request bodies; these are kept for
    -- log-in attribution and role changes, and only reach marts as pseudonyms
    lower(cast(request_body as jsonb) ->> 'email') as request_email,
    cast(request_body as jsonb) ->> 'role' as request_role,
    cast(request_body as jsonb) ->> 'approval_ticket_id' as request_approval_ticket_id,
    {{ didit_audit_row_hash() }} as row_hash,
    _sdc_deleted_at is not null as is_deleted_at_source,
    {{ column_to_utc(source('didit', 'audit_logs'), '_sdc_batched_at') }} as loaded_at,
    _sdc_batched_at
from latest
where version_rank = 1
