{#- Verification of the sealed log days against the raw tables (Annex 3.2.5: logs protected
    from unauthorised change). `dbt run-operation verify_logs` (Meltano job nis2-verify-logs)
    re-hashes every raw log row, compares each source-day with the digest the integrity mart
    sealed, writes one row per source-day into the findings table below and fails naming the
    source-days that no longer match. The integrity mart reads the table (source
    log_verification.log_verification_findings) at its next build. -#}

{% macro log_verification_table() -%}
    {{ target.schema }}_util.log_verification_findings
{%- endmacro %}

{% macro create_log_verification_table() %}
    create schema if not exists {{ target.schema }}_util;
    create table if not exists {{ log_verification_table() }} (
        partition_id text primary key,
        source_system text,
        asset_id text not null,
        partition_date date not null,
        verified_at timestamptz not null,
        result text not null,
        sealed_row_count bigint,
        raw_row_count bigint,
        rows_edited bigint,
        rows_deleted bigint,
        rows_inserted_behind_loader bigint,
        first_failed_at timestamptz,
        last_failed_at timestamptz,
        failed_verifications integer not null default 0
    );
{% endmacro %}

{% macro raw_log_rows() %}
    {#- Every raw log row the loader wrote, as staging would type it: source-day, key, load
        time and row hash; the rows staging rejects (macros/quarantine_sources.sql) were never
        sealed and are left out. -#}
    {%- set wazuh = wazuh_alert_fields(source('wazuh', 'wazuh_alerts')) %}
    {%- set wazuh_q = wazuh_alert_quarantine(wazuh) %}
    {%- set audit = source('didit', 'audit_logs') %}
    {%- set audit_q = didit_audit_log_quarantine(audit) %}
    {%- set events_q = keycloak_event_quarantine(source('keycloak', 'event_entity')) %}
    {%- set admin_q = keycloak_admin_event_quarantine(source('keycloak', 'admin_event_entity')) %}
    select
        'didit' as source_system,
        'didit.audit_logs' as asset_id,
        cast({{ column_to_utc(audit, 'timestamp', '"timestamp"') }} at time zone 'UTC' as date)
            as partition_date,
        cast(uuid as text) as row_key,
        {{ column_to_utc(audit, '_sdc_batched_at') }} as loaded_at,
        {{ didit_audit_row_hash() }} as row_hash
    from {{ audit }}
    where {{ quarantine_kept(audit_q.checks) }}
    union all
    select
        'didit',
        'didit.session_reviews',
        cast({{ parse_utc('created_at') }} at time zone 'UTC' as date),
        cast(uuid as text),
        {{ parse_utc('_sdc_batched_at') }},
        {{ didit_review_row_hash() }}
    from {{ source('didit', 'session_reviews') }}
    union all
    select
        'wazuh',
        coalesce({{ wazuh['agent'] }} ->> 'name', 'unknown'),
        cast({{ wazuh_q.event_ts }} at time zone 'UTC' as date),
        {{ wazuh['id'] }},
        {{ column_to_utc(source('wazuh', 'wazuh_alerts'), '_sdc_batched_at') }},
        {{ wazuh_alert_row_hash(wazuh) }}
    from {{ source('wazuh', 'wazuh_alerts') }}
    where {{ quarantine_kept(wazuh_q.checks) }}
    union all
    select
        'keycloak',
        'keycloak.events',
        cast({{ events_q.event_ts }} at time zone 'UTC' as date),
        cast(id as text),
        {{ column_to_utc(source('keycloak', 'event_entity'), '_sdc_batched_at') }},
        {{ keycloak_event_row_hash() }}
    from {{ source('keycloak', 'event_entity') }}
    where {{ quarantine_kept(events_q.checks) }}
    union all
    select
        'keycloak',
        'keycloak.admin_events',
        cast({{ admin_q.event_ts }} at time zone 'UTC' as date),
        cast(id as text),
        {{ column_to_utc(source('keycloak', 'admin_event_entity'), '_sdc_batched_at') }},
        {{ keycloak_admin_event_row_hash() }}
    from {{ source('keycloak', 'admin_event_entity') }}
    where {{ quarantine_kept(admin_q.checks) }}
{% endmacro %}

{% macro log_digest_comparison() %}
    {#- Per source-day: the sealed digest and the one recomputed from the raw rows loaded up to
        the last build (rows loaded since are not sealed yet, and not tampering). A day sealed
        whose rows are gone, or raw rows for a day never sealed, count as mismatches; days
        purged after their retention period do not. -#}
    with raw_rows as not materialized (
        {{ raw_log_rows() }}
    ),

    sealed as (
        select * from {{ ref('mart_nis2_log_retention_integrity') }}
    ),

    recomputed as (
        select
            source_system,
            asset_id,
            partition_date,
            count(*) as row_count,
            {{ partition_digest('row_hash') }} as digest
        from raw_rows
        where loaded_at <= (select max(s.last_loaded_at) from sealed as s)
        group by source_system, asset_id, partition_date
    )

    select
        coalesce(s.partition_id, r.asset_id || ':' || r.partition_date) as partition_id,
        coalesce(s.source_system, r.source_system) as source_system,
        coalesce(s.asset_id, r.asset_id) as asset_id,
        coalesce(s.partition_date, r.partition_date) as partition_date,
        s.row_count as sealed_row_count,
        coalesce(r.row_count, 0) as raw_row_count,
        s.digest_sha256 as sealed_digest,
        r.digest as raw_digest
    from sealed as s
    full outer join recomputed as r
        on s.asset_id = r.asset_id and s.partition_date = r.partition_date
    where not coalesce(s.purged_after_expiry, false)
{% endmacro %}

{% macro log_verification_attribution(findings) %}
    {#- For the source-days that failed: their raw rows against staging (what the build read
        through the loader) by key: a key in both with another hash was edited, a key only in
        staging deleted, a key only in the raw table inserted behind the loader. -#}
    with raw_rows as not materialized (
        {{ raw_log_rows() }}
    ),

    failed as (
        select
            source_system,
            asset_id,
            partition_date
        from {{ findings }}
        where result = 'mismatch' and verified_at = {{ as_of() }}
    ),

    raw_failed as (
        select
            r.asset_id,
            r.partition_date,
            r.row_key,
            r.row_hash
        from raw_rows as r
        inner join failed as f on r.asset_id = f.asset_id and r.partition_date = f.partition_date
        where r.loaded_at <= (
            select max(m.last_loaded_at) from {{ ref('mart_nis2_log_retention_integrity') }} as m
        )
    ),

    staged as (
        select
            f.asset_id,
            f.partition_date,
            u.event_id as row_key,
            u.row_hash
        from failed as f
        cross join lateral (
            select
                v.event_id,
                v.row_hash
            from {{ ref('int_security_events_unified') }} as v
            where v.source_system = f.source_system
                and v.asset_id = f.asset_id
                and v.event_ts >= cast(f.partition_date as timestamp) at time zone 'UTC'
                and v.event_ts < cast(f.partition_date + 1 as timestamp) at time zone 'UTC'
            offset 0  -- noqa: AM09
        ) as u
    )

    select
        coalesce(r.asset_id, s.asset_id) || ':' || coalesce(r.partition_date, s.partition_date)
            as partition_id,
        count(*) filter (where r.row_hash != s.row_hash) as rows_edited,
        count(*) filter (where r.row_key is null) as rows_deleted,
        count(*) filter (where s.row_key is null) as rows_inserted_behind_loader
    from raw_failed as r
    full outer join staged as s
        on r.asset_id = s.asset_id and r.partition_date = s.partition_date and r.row_key = s.row_key
    group by 1
{% endmacro %}

{% macro verify_logs() %}
    {#- The verification run: findings upserted per source-day (a failure is never erased: its
        first and last time and the number of failed runs are kept), then the failed
        source-days named and the operation failed. -#}
    {%- if not execute %}{{ return('') }}{% endif %}
    {%- set findings = log_verification_table() %}
    {%- do run_query(create_log_verification_table()) %}
    {%- set upsert %}
        insert into {{ findings }} as f (
            partition_id, source_system, asset_id, partition_date, verified_at, result,
            sealed_row_count, raw_row_count, rows_edited, rows_deleted,
            rows_inserted_behind_loader, first_failed_at, last_failed_at, failed_verifications
        )
        select
            partition_id,
            source_system,
            asset_id,
            partition_date,
            {{ as_of() }},
            case when raw_digest is not distinct from sealed_digest then 'ok' else 'mismatch' end,
            sealed_row_count,
            raw_row_count,
            0,
            0,
            0,
            case when raw_digest is distinct from sealed_digest then {{ as_of() }} end,
            case when raw_digest is distinct from sealed_digest then {{ as_of() }} end,
            case when raw_digest is distinct from sealed_digest then 1 else 0 end
        from ({{ log_digest_comparison() }}) as c
        on conflict (partition_id) do update set
            verified_at = excluded.verified_at,
            result = excluded.result,
            sealed_row_count = excluded.sealed_row_count,
            raw_row_count = excluded.raw_row_count,
            rows_edited = excluded.rows_edited,
            rows_deleted = excluded.rows_deleted,
            rows_inserted_behind_loader = excluded.rows_inserted_behind_loader,
            first_failed_at = coalesce(f.first_failed_at, excluded.first_failed_at),
            last_failed_at = coalesce(excluded.last_failed_at, f.last_failed_at),
            failed_verifications = f.failed_verifications + excluded.failed_verifications
    {%- endset %}
    {%- do run_query(upsert) %}
    {%- set failed = run_query(
        "select count(*) from " ~ findings ~ " where result = 'mismatch' and verified_at = "
        ~ as_of()
    ).columns[0].values()[0] %}
    {%- if failed > 0 %}
        {%- do run_query(
            "update " ~ findings ~ " as f set rows_edited = a.rows_edited, rows_deleted = "
            ~ "a.rows_deleted, rows_inserted_behind_loader = a.rows_inserted_behind_loader from ("
            ~ log_verification_attribution(findings) ~ ") as a where f.partition_id = a.partition_id"
        ) %}
    {%- endif %}
    {%- set checked = run_query(
        "select count(*) from " ~ findings ~ " where verified_at = " ~ as_of()
    ).columns[0].values()[0] %}
    {%- set named = run_query(
        "select asset_id || ' ' || partition_date || ': ' || rows_edited || ' edited, '"
        ~ " || rows_deleted || ' deleted, ' || rows_inserted_behind_loader"
        ~ " || ' inserted behind the loader (sealed ' || coalesce(sealed_row_count, 0)"
        ~ " || ' rows, raw ' || raw_row_count || ')'"
        ~ " || case when rows_edited + rows_deleted + rows_inserted_behind_loader = 0"
        ~ " then '; the raw rows are what the loader delivered: a sealed row was changed through"
        ~ " the loader (the integrity mart records the day as modified)' else '' end from "
        ~ findings
        ~ " where result = 'mismatch' and verified_at = " ~ as_of() ~ " order by 1"
    ).columns[0].values() %}
    {%- do adapter.commit() %}
    {%- if named | length > 0 %}
        {{ exceptions.raise_compiler_error(
            "log verification failed for " ~ (named | length) ~ " of " ~ checked
            ~ " source-days (Annex 3.2.5; findings in " ~ findings ~ "):\n  "
            ~ (named | join("\n  "))
        ) }}
    {%- endif %}
    {{ log("log verification: " ~ checked ~ " source-days match their sealed digests", info=True) }}
{% endmacro %}

{% macro previous_seal() %}
    {#- The integrity mart as sealed so far; a table sealed before the row hashes and the
        re-seal time were kept lacks those columns (null: re-sealed on its row count alone). -#}
    {%- set kept = adapter.get_columns_in_relation(this) | map(attribute='name') | list
        if execute else [] %}
    select
        t.*
        {%- if 'sealed_row_hashes' not in kept %}, cast(null as bytea) as sealed_row_hashes{% endif %}
        {%- if 'last_sealed_at' not in kept %}, cast(null as timestamptz) as last_sealed_at{% endif %}
    from {{ this }} as t
{% endmacro %}

{% macro no_previous_seal() %}
    {#- The integrity mart's first build has no previous state: an empty relation of its shape. -#}
    select
        cast(null as text) as partition_id,
        cast(null as text) as source_system,
        cast(null as text) as asset_id,
        cast(null as date) as partition_date,
        cast(null as bigint) as row_count,
        cast(null as timestamptz) as last_loaded_at,
        cast(null as text) as recomputed_digest,
        cast(null as text) as digest_sha256,
        cast(null as bytea) as sealed_row_hashes,
        cast(null as text) as change_kind,
        cast(null as timestamptz) as first_sealed_at,
        cast(null as timestamptz) as last_sealed_at,
        cast(null as boolean) as tamper_detected
    where false
{% endmacro %}

{% macro hours_after_day_end(ts, day) -%}
    {#- Hours from the end of a UTC day to a time, to 0.1 h (negative: before the day ended). -#}
    round(cast(extract(epoch from {{ ts }} - (cast({{ day }} + 1 as timestamp) at time zone 'UTC'))
        / 3600 as numeric), 1)
{%- endmacro %}
