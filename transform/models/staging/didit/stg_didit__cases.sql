{{ stg_from_json('didit', 'cases', 'uuid', [
    ['uuid', 'case_id', 'text'], ['case_number', 'case_number', 'int'], ['title', 'title', 'text'],
    ['status', 'case_status', 'text'], ['priority', 'priority', 'text'],
    ['source', 'case_source', 'text'], ['resolution', 'resolution', 'text'],
    ['assigned_at', 'assigned_at', 'ts'], ['due_at', 'due_at', 'ts'],
    ['resolved_at', 'resolved_at', 'ts'], ['created_at', 'created_at', 'ts'],
    ['updated_at', 'updated_at', 'ts'],
]) }}
