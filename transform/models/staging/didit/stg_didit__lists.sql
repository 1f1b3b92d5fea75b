{{ stg_from_json('didit', 'lists', 'uuid', [
    ['uuid', 'list_id', 'text'], ['name', 'list_name', 'text'], ['list_type', 'list_type', 'text'],
    ['entry_type', 'entry_type', 'text'], ['created_at', 'created_at', 'ts'],
]) }}
