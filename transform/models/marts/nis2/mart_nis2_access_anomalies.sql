-- Access from somewhere new (Annex 3.2.3(c), 3.2.4; TIG 11.7.2: unusual location or time):
-- one row per successful access (Didit Console or API, Keycloak log-in) from an IP address or
-- country never seen before for that user or API key, after a learning period. Off-hours and
-- holidays are scored, not flagged alone (members and service keys work at all hours).
with access as (
    select
        'didit:' || audit_log_id as event_id,
        'didit' as source_system,
        lower(coalesce(actor, api_key_name)) as principal,
        lower(actor_type) as principal_type,
        event_ts,
        ip_address,
        country_code,
        coalesce(application_name, 'didit-console') as application
    from {{ ref('stg_didit__audit_logs') }}
    where status_code < 400 and coalesce(actor, api_key_name) is not null
    union all
    select
        'keycloak:' || e.event_id,
        'keycloak',
        coalesce(u.email, u.username, e.user_id),
        'user',
        e.event_ts,
        e.ip_address,
        cast(null as text),
        e.client_id
    from {{ ref('stg_keycloak__events') }} as e
    left join {{ ref('stg_keycloak__users') }} as u on e.user_id = u.user_id
    where e.event_type = 'LOGIN'
),

firsts as (
    select
        principal,
        min(event_ts) as principal_first_at
    from access
    group by principal
),

first_ip as (
    select
        principal,
        ip_address,
        min(event_ts) as first_at
    from access
    group by principal, ip_address
),

first_country as (
    select
        principal,
        country_code,
        min(event_ts) as first_at
    from access
    where country_code is not null
    group by principal, country_code
),

candidates as (
    select distinct on (a.event_id)
        a.*,
        f.principal_first_at,
        fi.first_at = a.event_ts as first_seen_ip_for_user,
        coalesce(fc.first_at = a.event_ts, false) as first_seen_country_for_user
    from access as a
    inner join firsts as f on a.principal = f.principal
    inner join first_ip as fi
        on a.principal = fi.principal and a.ip_address = fi.ip_address and a.event_ts = fi.first_at
    left join first_country as fc
        on a.principal = fc.principal and a.country_code = fc.country_code
    where a.event_ts > f.principal_first_at
        + make_interval(days => cast({{ policy('ANOMALY_BASELINE_DAYS') }} as integer))
    order by a.event_id
),

privileged as (
    select distinct lower(coalesce(u.email, u.username)) as principal
    from {{ ref('stg_keycloak__user_role_mappings') }} as m
    inner join {{ ref('stg_keycloak__roles') }} as r on m.role_id = r.role_id
    inner join {{ ref('privileged_roles') }} as p
        on r.role_name = p.role_name and p.source_system = 'keycloak'
    inner join {{ ref('stg_keycloak__users') }} as u on m.user_id = u.user_id
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
        extract(hour from c.event_ts at time zone p.time_zone) >= {{ policy('OFF_HOURS_START') }}
        or extract(hour from c.event_ts at time zone p.time_zone) < {{ policy('OFF_HOURS_END') }}
        or extract(isodow from c.event_ts at time zone p.time_zone) >= 6 as is_off_hours,
        exists(
            select 1 from {{ ref('public_holidays') }} as h
            where h.member_state = p.member_state
                and cast(h.holiday_date as date) = cast(c.event_ts at time zone p.time_zone as date)
        ) as is_holiday,
        c.principal in (select pr.principal from privileged as pr) as privileged
    from candidates as c
    cross join profile as p
)

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
