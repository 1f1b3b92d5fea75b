-- Register rows with a cell staging could not type, one row per incident and field
-- (interface: transform/README.md, "Quarantine"). Never the cell's value: a hand-kept register
-- may hold personal data in any cell. A view: the register is small.
{{ config(materialized='view') }}
{%- set fields = incident_register_fields() %}
{{ quarantine_rejects(
    'incidents', 'incident_register', source('incidents', 'incident_register'), 'incident_id',
    incident_register_checks(fields)
) }}
