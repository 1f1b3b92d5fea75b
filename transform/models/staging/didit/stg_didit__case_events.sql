{{ stg_from_json('didit', 'case_events', 'uuid', [
    ['uuid', 'case_event_id', 'text'], ['case_uuid', 'case_id', 'text'],
    ['event_type', 'event_type', 'text'], ['actor_email', 'actor_email', 'text'],
    ['previous_status', 'previous_status', 'text'], ['new_status', 'new_status', 'text'],
    ['created_at', 'created_at', 'ts'],
]) }}
