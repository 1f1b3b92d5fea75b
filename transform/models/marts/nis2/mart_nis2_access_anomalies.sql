-- Access from somewhere new (Annex 3.2.3(c), 3.2.4; TIG 11.7.2: unusual location or time):
-- one row per successful access (Didit Console or API, Keycloak log-in) from an IP address or
-- country never seen before for that user or API key, after a learning period. Off-hours and
-- holidays are scored, not flagged alone (members and service keys work at all hours).
-- Incremental: the pre-hook keeps each account's first time per address and per country
-- (macros/auth_windows.sql); only addresses whose first access moved are looked up again,
-- and kept rows are scored again when their country's first access or the account's
-- privilege changed. After editing the holidays or the entity profile, build with
-- --full-refresh.
{{ config(
    materialized='incremental',
    unique_key='event_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[
        {'columns': ['event_id'], 'unique': True},
        {'columns': ['principal_key']},
    ],
    pre_hook=[
        "{{ local_work_mem() }}",
        "{{ reset_watermark_on_full_build() }}",
        "{{ create_key_snapshot('users') }}",
        "{{ create_key_snapshot('privileged') }}",
        "{{ access_anomaly_state() }}",
    ],
    post_hook=[
        "{% for m in ['stg_didit__audit_logs', 'stg_keycloak__events'] %}
        {{ save_watermark(ref(m), name=this.identifier ~ ':' ~ m) }};
        {% endfor %}",
        "{{ save_key_snapshot(keycloak_principals_sql(), 'users') }}",
        "{{ save_key_snapshot(privileged_principals_sql(), 'privileged') }}",
    ]
) }}

with ip_firsts as (
    select * from {{ access_firsts_table('ip') }}
),

account_firsts as (
    select
        principal,
        min(first_at) as principal_first_at
    from ip_firsts
    group by principal
),

-- addresses whose first access is new or moved, after the account's learning period
moved as (
    select
        s.principal,
        s.ip_address,
        s.first_at
    from ip_firsts as s
    inner join account_firsts as f on s.principal = f.principal
    where s.changed
        and s.ip_address is not null
        and s.first_at > f.principal_first_at
        + make_interval(days => cast({{ policy('ANOMALY_BASELINE_DAYS') }} as integer))
),

-- the accesses at those instants, found through the staging tables' event-time index
candidates as (
    select a.*
    from moved as m
    cross join
        lateral (
            {{ access_events_sql('l.event_ts = m.first_at', 'e.event_ts = m.first_at') }}
        ) as a
    where a.principal = m.principal and a.ip_address = m.ip_address
),

privileged as (
    {{ privileged_principals_sql() }}
),

profile as (
    select
        time_zone,
        member_state
    from {{ ref('nis2_entity_profile') }}
    where entity_id = '{{ var("entity_id") }}'
),

scored as (
    select
        c.*,
        c.event_ts at time zone p.time_zone as local_ts,
        true as first_seen_ip_for_user,
        coalesce(fc.first_at = c.event_ts, false) as first_seen_country_for_user,
        extract(hour from c.event_ts at time zone p.time_zone) >= {{ policy('OFF_HOURS_START') }}
        or extract(hour from c.event_ts at time zone p.time_zone) < {{ policy('OFF_HOURS_END') }}
        or extract(isodow from c.event_ts at time zone p.time_zone) >= 6 as is_off_hours,
        exists(
            select 1 from {{ ref('public_holidays') }} as h
            where h.member_state = p.member_state
                and cast(h.holiday_date as date) = cast(c.event_ts at time zone p.time_zone as date)
        ) as is_holiday,
        c.principal in (select pr.key from privileged as pr) as privileged
    from candidates as c
    cross join profile as p
    left join {{ access_firsts_table('country') }} as fc
        on c.principal = fc.principal and c.country_code = fc.country_code
),

recomputed as (
    select
        event_id,
        source_system,
        {{ pseudonymise('principal') }} as principal_key,
        principal_type,
        event_ts,
        local_ts,
        is_off_hours,
        is_holiday,
        {{ pseudonymise('ip_address') }} as ip_key,
        {{ pseudonymise(ip_network('ip_address')) }} as ip_prefix_key,
        country_code as country,
        first_seen_ip_for_user,
        first_seen_country_for_user,
        privileged,
        application,
        1 + cast(first_seen_country_for_user as integer) + cast(is_off_hours as integer)
        + cast(is_holiday as integer) + cast(privileged as integer) as anomaly_score
    from scored
)

{% if is_incremental() %}
    -- kept rows of accounts whose privilege changed, or of a country whose first access moved
    , privileged_keys as (  -- noqa: LT04
        select {{ pseudonymise('p.key') }} as principal_key from privileged as p
    ),

    rescored as (
        select
            k.*,
            coalesce(fc.first_at = k.event_ts, false) as country_now,
            k.principal_key in (select pk.principal_key from privileged_keys as pk) as privileged_now
        from {{ this }} as k
        left join {{ access_firsts_table('country') }} as fc
            on k.principal_key = fc.principal_key and k.country = fc.country_code
        where k.principal_key in (
                select {{ pseudonymise('c.key') }}
                from ({{ changed_keys(privileged_principals_sql(), 'privileged') }}) as c
            )
            or exists (
                select 1 from {{ access_firsts_table('country') }} as cc
                where cc.changed
                    and cc.principal_key = k.principal_key and cc.country_code = k.country
            )
    ),

    unioned as (
        select
            1 as priority,
            r.*
        from recomputed as r
        union all
        select
            2,
            k.event_id,
            k.source_system,
            k.principal_key,
            k.principal_type,
            k.event_ts,
            k.local_ts,
            k.is_off_hours,
            k.is_holiday,
            k.ip_key,
            k.ip_prefix_key,
            k.country,
            k.first_seen_ip_for_user,
            k.country_now,
            k.privileged_now,
            k.application,
            1 + cast(k.country_now as integer) + cast(k.is_off_hours as integer)
            + cast(k.is_holiday as integer) + cast(k.privileged_now as integer)
        from rescored as k
    )

    select distinct on (event_id)
        event_id,
        source_system,
        principal_key,
        principal_type,
        event_ts,
        local_ts,
        is_off_hours,
        is_holiday,
        ip_key,
        ip_prefix_key,
        country,
        first_seen_ip_for_user,
        first_seen_country_for_user,
        privileged,
        application,
        anomaly_score
    from unioned
    order by event_id, priority
{% else %}
    select * from recomputed
{% endif %}
