-- Recomputes every sealed day's digest from the raw tables the loader wrote and returns the days
-- whose rows no longer hash to the recorded digest: edits, deletions or insertions made in the
-- warehouse behind the loader's back (Annex 3.2.5: protect logs from unauthorised change).
{{ config(severity='error', tags=['log_integrity_verification']) }}

{%- set wazuh = wazuh_alert_fields(source('wazuh', 'wazuh_alerts')) %}
{#- the rows staging rejects (macros/quarantine_sources.sql) were never sealed -#}
{%- set wazuh_q = wazuh_alert_quarantine(wazuh) %}
{%- set audit_q = didit_audit_log_quarantine(source('didit', 'audit_logs')) %}
{%- set events_q = keycloak_event_quarantine(source('keycloak', 'event_entity')) %}
{%- set admin_q = keycloak_admin_event_quarantine(source('keycloak', 'admin_event_entity')) %}

with raw_rows as (
    select
        'didit.audit_logs' as asset_id,
        cast(
            {{ column_to_utc(source('didit', 'audit_logs'), 'timestamp', '"timestamp"') }}
            at time zone 'UTC' as date
        ) as partition_date,
        {{ didit_audit_row_hash() }} as row_hash
    from {{ source('didit', 'audit_logs') }}
    where {{ quarantine_kept(audit_q.checks) }}
    union all
    select
        'didit.session_reviews',
        cast({{ parse_utc('created_at') }} at time zone 'UTC' as date),
        {{ didit_review_row_hash() }}
    from {{ source('didit', 'session_reviews') }}
    union all
    select
        coalesce({{ wazuh['agent'] }} ->> 'name', 'unknown'),
        cast({{ wazuh_q.event_ts }} at time zone 'UTC' as date),
        {{ wazuh_alert_row_hash(wazuh) }}
    from {{ source('wazuh', 'wazuh_alerts') }}
    where {{ quarantine_kept(wazuh_q.checks) }}
    union all
    select
        'keycloak.events',
        cast({{ events_q.event_ts }} at time zone 'UTC' as date),
        {{ keycloak_event_row_hash() }}
    from {{ source('keycloak', 'event_entity') }}
    where {{ quarantine_kept(events_q.checks) }}
    union all
    select
        'keycloak.admin_events',
        cast({{ admin_q.event_ts }} at time zone 'UTC' as date),
        {{ keycloak_admin_event_row_hash() }}
    from {{ source('keycloak', 'admin_event_entity') }}
    where {{ quarantine_kept(admin_q.checks) }}
),

recomputed as (
    select
        asset_id,
        partition_date,
        count(*) as row_count,
        {{ partition_digest('row_hash') }} as digest
    from raw_rows
    group by asset_id, partition_date
)

select
    m.partition_id,
    m.row_count as sealed_row_count,
    r.row_count as raw_row_count,
    m.digest_sha256 as sealed_digest,
    r.digest as raw_digest
from {{ ref('mart_nis2_log_retention_integrity') }} as m
left join recomputed as r
    on m.asset_id = r.asset_id and m.partition_date = r.partition_date
where r.digest is distinct from m.digest_sha256
    and not m.purged_after_expiry
