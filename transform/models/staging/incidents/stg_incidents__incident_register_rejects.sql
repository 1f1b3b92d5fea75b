-- Rows of the register with cells that could not be typed, one row per incident, naming the
-- fields but never their values (the register may hold personal data).
select
    incident_id,
    invalid_fields,
    loaded_at
from {{ ref('stg_incidents__incident_register') }}
where invalid_fields != ''
