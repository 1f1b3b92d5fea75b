{{ latest_version(source('didit', 'session_reviews'), 'uuid') }}

select
    cast(uuid as text) as review_id,
    cast(session_id as text) as session_id,
    upper(cast(activity_type as text)) as activity_type,
    cast(actor_display as text) as actor_display,
    lower(cast(actor_email as text)) as actor_email,
    upper(cast(actor_type as text)) as actor_type,
    cast(previous_status as text) as previous_status,
    cast(new_status as text) as new_status,
    cast(metadata as jsonb) ->> 'system_event' as system_event,
    {{ parse_utc('created_at') }} as created_at,
    {{ didit_review_row_hash() }} as row_hash,
    {{ parse_utc('_sdc_batched_at') }} as loaded_at
from latest
where version_rank = 1
