{{ stg_from_json('didit', 'webhook_deliveries', 'uuid', [
    ['uuid', 'delivery_id', 'text'], ['destination_uuid', 'destination_id', 'text'],
    ['webhook_type', 'webhook_type', 'text'], ['session_id', 'session_id', 'text'],
    ['http_status', 'http_status', 'int'], ['response_time_ms', 'response_time_ms', 'int'],
    ['attempt', 'attempt', 'int'], ['is_retry', 'is_retry', 'bool'], ['error', 'error', 'text'],
    ['created_at', 'created_at', 'ts'],
]) }}
