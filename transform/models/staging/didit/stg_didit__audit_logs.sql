-- Didit Console audit log. An entry whose uuid or timestamp cannot be typed is left out, an
-- untypable status_code or request_body is null; all are listed in
-- stg_didit__audit_logs_rejects.
{{ event_fact_config('audit_log_id', 'didit', 'audit_logs') }}
{%- set q = didit_audit_log_quarantine(source('didit', 'audit_logs')) %}
{{ latest_version(source('didit', 'audit_logs'), 'uuid', incremental=true) }}

select
    cast(uuid as text) as audit_log_id,
    {{ q.event_ts }} as event_ts,
    upper(cast(actor_type as text)) as actor_type,
    cast(actor as text) as actor,
    cast(api_key_name as text) as api_key_name,
    upper(cast(method as text)) as http_method,
    cast(path as text) as request_path,
    {{ q.status_code }} as status_code,
    cast(ip_address as text) as ip_address,
    upper(cast(country as text)) as country_code,
    cast(user_agent as text) as user_agent,
    cast(application_id as text) as application_id,
    cast(application_name as text) as application_name,
    request_body is not null as has_request_body,
    -- the Console masks secrets and personal values in request bodies; these are kept for
    -- log-in attribution and role changes, and only reach marts as pseudonyms
    lower({{ q.request_body }} ->> 'email') as request_email,
    {{ q.request_body }} ->> 'role' as request_role,
    {{ q.request_body }} ->> 'approval_ticket_id' as request_approval_ticket_id,
    {{ didit_audit_row_hash() }} as row_hash,
    _sdc_deleted_at is not null as is_deleted_at_source,
    {{ column_to_utc(source('didit', 'audit_logs'), '_sdc_batched_at') }} as loaded_at,
    _sdc_batched_at
from latest
where version_rank = 1 and {{ quarantine_kept(q.checks) }}
