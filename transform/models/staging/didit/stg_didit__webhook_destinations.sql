{{ stg_from_json('didit', 'webhook_destinations', 'uuid', [
    ['uuid', 'destination_id', 'text'], ['label', 'label', 'text'], ['url', 'url', 'text'],
    ['enabled', 'is_enabled', 'bool'], ['webhook_version', 'webhook_version', 'text'],
    ['created_at', 'created_at', 'ts'], ['updated_at', 'updated_at', 'ts'],
]) }}
