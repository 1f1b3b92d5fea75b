-- Forensic timeline (Annex 3.5.4, 3.2.3; Art. 23(4) reports): for every subject of
-- int_forensic_subjects (a correlated finding's address or person, every address and person a
-- detection names during an incident) every event of every source inside the subject's window,
-- in time order, with its source, its key in the source (model:id, as in
-- int_security_events_unified) and what happened. People and addresses are pseudonyms; the
-- detail carries no personal value (no URL query, no user name, no Wazuh description or path,
-- which a rule may fill with an account name). Each source is read through
-- its event-time index, one subject window at a time.
{% set sources = [
    {'system': 'didit', 'model': 'stg_didit__audit_logs', 'id': 'audit_log_id',
     'who': 'lower(coalesce(e.actor, e.request_email, e.api_key_name))', 'ip': 'e.ip_address',
     'what': "e.http_method || ' ' || split_part(e.request_path, '?', 1)",
     'detail': "'HTTP ' || e.status_code"},
    {'system': 'keycloak', 'model': 'stg_keycloak__events', 'id': 'event_id',
     'who': 'e.user_id', 'ip': 'e.ip_address', 'what': 'e.event_type',
     'detail': "concat_ws(' ', e.client_id, e.error)"},
    {'system': 'keycloak', 'model': 'stg_keycloak__admin_events', 'id': 'admin_event_id',
     'who': 'e.auth_user_id', 'ip': 'e.ip_address',
     'what': "e.operation_type || ' ' || e.resource_type",
     'detail': "concat_ws(' ', regexp_replace(e.resource_path, '^users/[^/]+', 'users/<user>'), e.error)"},
    {'system': 'wazuh', 'model': 'stg_wazuh__alerts', 'id': 'alert_id',
     'who': "coalesce(nullif(e.win_target_user, ''), e.dst_user, e.src_user)",
     'ip': "coalesce(e.src_ip, nullif(e.win_ip_address, '-'))",
     'what': "'rule ' || e.rule_id || ' (level ' || e.rule_level || ')'",
     'detail': "concat_ws(' ', e.agent_name, e.decoder_name)"},
] %}
with subjects as (
    select * from {{ ref('int_forensic_subjects') }}
),

-- what an event must carry to belong to a subject: the address, or any alias of the person
match_keys as (
    select
        subject_type,
        subject_id,
        key_type,
        subject_key,
        window_start,
        window_end,
        subject_key as match_key
    from subjects
    union
    select
        s.subject_type,
        s.subject_id,
        s.key_type,
        s.subject_key,
        s.window_start,
        s.window_end,
        a.alias_key
    from subjects as s
    cross join lateral unnest(s.alias_keys) as a (alias_key)
),

-- every event of each distinct window once (the subjects of an incident share one window):
-- the pseudonyms are computed once per event and window, not once per subject
windows as (
    select distinct
        window_start,
        window_end
    from subjects
),

events as (
    {% for s in sources %}
        select
            w.window_start,
            w.window_end,
            ev.*
        from windows as w
        cross join
            lateral (
                select
                    e.event_ts,
                    '{{ s.system }}' as source_system,
                    '{{ s.model }}:' || e.{{ s.id }} as event_key,
                    {{ s.what }} as event_type,  -- noqa: AL09
                    {{ s.detail }} as detail,
                    {{ pseudonymise(s.who) }} as who_key,
                    {{ pseudonymise(s.ip) }} as src_ip_key
                from {{ ref(s.model) }} as e
                where e.event_ts between w.window_start and w.window_end
            ) as ev
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

matched as (
    select distinct on (k.subject_type, k.subject_id, k.key_type, k.subject_key, e.event_key)
        k.subject_type,
        k.subject_id,
        k.key_type,
        k.subject_key,
        e.*
    from match_keys as k
    inner join events as e
        on k.window_start = e.window_start
            and k.window_end = e.window_end
            and k.match_key = case when k.key_type = 'address' then e.src_ip_key else e.who_key end
    order by k.subject_type, k.subject_id, k.key_type, k.subject_key, e.event_key
)

select
    md5(concat_ws('|', e.subject_type, e.subject_id, e.key_type, e.subject_key, e.event_key))
        as timeline_row_id,
    e.subject_type,
    e.subject_id,
    -- the incident a row belongs to, for the evidence pack's per-incident export
    case when e.subject_type = 'incident' then e.subject_id end as incident_id,
    e.key_type,
    e.subject_key,
    e.event_ts,
    row_number() over (
        partition by e.subject_type, e.subject_id, e.key_type, e.subject_key
        order by e.event_ts, e.source_system, e.event_key
    ) as seq,
    e.source_system,
    e.event_key,
    e.event_type,
    e.detail,
    coalesce(m.identity_key, e.who_key) as actor_key,
    e.src_ip_key
from matched as e
left join {{ ref('int_identity_map') }} as m on e.who_key = m.alias_key
