{{ stg_from_json('didit', 'businesses', 'didit_internal_id', [
    ['didit_internal_id', 'didit_internal_id', 'text'], ['vendor_data', 'vendor_data', 'text'],
    ['status', 'business_status', 'text'], ['country_code', 'country_code', 'text'],
    ['session_count', 'session_count', 'int'], ['created_at', 'created_at', 'ts'],
    ['last_activity_at', 'last_activity_at', 'ts'],
]) }}
