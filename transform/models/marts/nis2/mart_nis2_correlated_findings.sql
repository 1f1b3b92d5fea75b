-- Cross-source correlation (Annex 3.2.4, 3.4.1): findings of two or more sources (Didit and
-- Keycloak authentication detections M6, Wazuh detections, Keycloak admin-event findings)
-- about one address or one person within CORRELATION_WINDOW_MINUTES of each other (seed
-- siem_detection_policy) become one correlated finding that lists the findings making it.
-- A person is followed through int_identity_map (e-mail, Keycloak user id and username, Didit
-- member, Wazuh dstuser, seed identity_aliases). Works on pseudonyms only.
{% set sp = "select cast(value as numeric) from " ~ ref('siem_detection_policy') ~ " where policy_code = " %}
with params as (
    select make_interval(mins => cast(({{ sp }}'CORRELATION_WINDOW_MINUTES') as integer)) as win
),

findings as (
    select
        source_system,
        detection_id,
        detection_type,
        window_start as started_at,
        window_end as ended_at,
        src_ip_key,
        principal_key as person_alias_key
    from {{ ref('mart_nis2_auth_failure_detections') }}
    union all
    select
        source_system,
        detection_id,
        detection_type,
        window_start,
        window_end,
        src_ip_key,
        account_key
    from {{ ref('mart_nis2_siem_detections') }}
    union all
    select
        source_system,
        detection_id,
        detection_type,
        event_ts,
        greatest(event_ts, coalesce(last_login_after_leave, event_ts)),
        src_ip_key,
        target_key
    from {{ ref('mart_nis2_iam_admin_detections') }}
    where is_finding
),

keyed as (
    select
        f.*,
        'address' as key_type,
        f.src_ip_key as subject_key
    from findings as f
    where f.src_ip_key is not null
    union all
    select
        f.*,
        'person',
        coalesce(i.identity_key, f.person_alias_key)
    from findings as f
    left join {{ ref('int_identity_map') }} as i on f.person_alias_key = i.alias_key
    where f.person_alias_key is not null
),

-- a finding joins the cluster before it when it starts within the window of the latest end
ordered as (
    select
        *,
        max(ended_at) over (
            partition by key_type, subject_key order by started_at, detection_id
            rows between unbounded preceding and 1 preceding
        ) as reach_before
    from keyed
),

clustered as (
    select
        o.*,
        sum(case when o.reach_before is null or o.started_at > o.reach_before + p.win then 1 else 0 end)
            over (partition by o.key_type, o.subject_key order by o.started_at, o.detection_id)
            as cluster
    from ordered as o
    cross join params as p
)

select
    md5(key_type || '|' || subject_key || '|' || min(started_at)) as correlation_id,
    key_type,
    subject_key,
    min(started_at) as first_at,
    max(ended_at) as last_at,
    count(distinct source_system) as source_count,
    string_agg(distinct source_system, ';') as sources,
    string_agg(distinct detection_type, ';') as detection_types,
    count(*) as findings,
    string_agg(source_system || ':' || detection_id, ';' order by started_at, detection_id)
        as finding_ids
from clustered
group by key_type, subject_key, cluster
having count(distinct source_system) >= 2
