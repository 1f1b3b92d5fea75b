{{ stg_from_json('didit', 'list_entries', 'uuid', [
    ['uuid', 'list_entry_id', 'text'], ['list_uuid', 'list_id', 'text'],
    ['entry_type', 'entry_type', 'text'], ['created_at', 'created_at', 'ts'],
]) }}
