{{ stg_from_json('didit', 'workflows', 'uuid', [
    ['uuid', 'workflow_version_id', 'text'], ['workflow_id', 'workflow_id', 'text'],
    ['workflow_label', 'workflow_label', 'text'], ['workflow_type', 'workflow_type', 'text'],
    ['version', 'workflow_version', 'int'], ['status', 'workflow_status', 'text'],
    ['is_default', 'is_default', 'bool'], ['is_archived', 'is_archived', 'bool'],
    ['features', 'features', 'text'], ['updated_at', 'updated_at', 'ts'],
]) }}
