-- Keycloak admin-event detections (Annex 3.2.3(b)(e), 10.3, 11.2.2, 11.3.1), one row per
-- finding, with raw identifiers (the mart pseudonymises them):
-- * leaver_access: a user disabled (UPDATE with enabled false) or deleted by an administrator;
--   the access review after the leave time: Keycloak and Didit log-ins since, roles still held;
-- * admin_password_reset: reset-password (or execute-actions-email with UPDATE_PASSWORD) on an
--   account that held a privileged role then (int_keycloak_privileged_accounts);
-- * privileged_grant_unusual: a privileged realm or client role (seed privileged_roles)
--   granted outside working hours (detection_policy OFF_HOURS_*, weekends, holidays) or from an
--   address outside seed organisation_networks.
-- The target user comes from resource_path ('users/<id>/...'). Admin events are few: rebuilt
-- in full each run.
{%- set ipv4 = "'^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])[.]){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$'" %}
with admin_events as (
    select *
    from {{ ref('stg_keycloak__admin_events') }}
    where resource_type in ('USER', 'REALM_ROLE_MAPPING', 'CLIENT_ROLE_MAPPING')
        and error is null
        and target_user_id is not null
),

users as (
    select
        user_id,
        coalesce(email, username) as principal,
        email
    from {{ ref('stg_keycloak__users') }}
),

profile as (
    select
        time_zone,
        member_state
    from {{ ref('nis2_entity_profile') }}
    where entity_id = '{{ var("entity_id") }}'
),

leave_events as (
    select *
    from admin_events
    where resource_type = 'USER'
        and resource_path ~ '^users/[^/]+$'
        and (
            operation_type = 'DELETE'
            or (operation_type = 'UPDATE' and lower(representation ->> 'enabled') = 'false')
        )
),

leavers as (
    select
        target_user_id,
        min(event_ts) as left_at,
        min(event_ts) filter (where operation_type = 'UPDATE') as disabled_at,
        min(event_ts) filter (where operation_type = 'DELETE') as deleted_at,
        (array_agg(admin_event_id order by event_ts))[1] as admin_event_id,
        (array_agg(auth_user_id order by event_ts))[1] as actor_user_id,
        (array_agg(ip_address order by event_ts))[1] as ip_address,
        -- a deleted user is gone from the user table: the name its disabling event carried
        lower(min(coalesce(representation ->> 'email', representation ->> 'username')))
            as represented_principal
    from leave_events
    group by target_user_id
),

leaver_logins as (
    select
        l.target_user_id,
        count(*) as logins_after_leave,
        max(a.event_ts) as last_login_after_leave
    from leavers as l
    left join users as u on l.target_user_id = u.user_id
    inner join {{ ref('int_auth_events') }} as a
        on l.left_at < a.event_ts
            and a.outcome = 'success'
            and (
                l.target_user_id = a.user_id
                or a.principal = coalesce(u.email, l.represented_principal)
            )
    group by l.target_user_id
),

entitlements as (
    select
        m.user_id,
        count(*) as entitlements_held,
        count(p.role_name) as privileged_entitlements_held
    from {{ ref('stg_keycloak__user_role_mappings') }} as m
    inner join {{ ref('stg_keycloak__roles') }} as r on m.role_id = r.role_id
    left join {{ ref('privileged_roles') }} as p
        on r.role_name = p.role_name and p.source_system = 'keycloak'
    where m.user_id in (select l.target_user_id from leavers as l)
    group by m.user_id
),

resets as (
    select a.*
    from admin_events as a
    where a.resource_type = 'USER'
        and (
            a.resource_path ~ '^users/[^/]+/reset-password$'
            or (
                a.resource_path ~ '^users/[^/]+/execute-actions-email$'
                and cast(a.representation as text) like '%UPDATE_PASSWORD%'
            )
        )
        and exists (
            select 1 from {{ ref('int_keycloak_privileged_accounts') }} as k
            where k.user_id = a.target_user_id
                and (k.privileged_from is null or k.privileged_from <= a.event_ts)
                and (k.privileged_until is null or k.privileged_until > a.event_ts)
        )
),

grants as (
    select
        c.admin_event_id,
        c.event_ts,
        c.target_user_id,
        c.role_name,
        c.approval_ticket_id,
        c.ip_address,
        a.auth_user_id
    from {{ ref('int_privilege_changes') }} as c
    inner join admin_events as a on c.admin_event_id = a.admin_event_id
    where c.source_system = 'keycloak' and c.change_type = 'grant' and c.is_privileged_role
),

findings as (
    select
        'leaver_access' as detection_type,
        l.admin_event_id,
        l.left_at as event_ts,
        l.actor_user_id,
        l.target_user_id,
        l.represented_principal,
        l.ip_address,
        cast(null as text) as role_name,
        cast(null as text) as approval_ticket_id,
        l.disabled_at,
        l.deleted_at,
        coalesce(g.logins_after_leave, 0) as logins_after_leave,
        g.last_login_after_leave,
        coalesce(e.entitlements_held, 0) as entitlements_held,
        coalesce(e.privileged_entitlements_held, 0) as privileged_entitlements_held
    from leavers as l
    left join leaver_logins as g on l.target_user_id = g.target_user_id
    left join entitlements as e on l.target_user_id = e.user_id
    union all
    select
        'admin_password_reset',
        r.admin_event_id,
        r.event_ts,
        r.auth_user_id,
        r.target_user_id,
        null,
        r.ip_address,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null
    from resets as r
    union all
    select
        'privileged_grant_unusual',
        g.admin_event_id,
        g.event_ts,
        g.auth_user_id,
        g.target_user_id,
        null,
        g.ip_address,
        g.role_name,
        g.approval_ticket_id,
        null,
        null,
        null,
        null,
        null,
        null
    from grants as g
),

judged as (
    select
        f.*,
        coalesce(actor.principal, f.actor_user_id) as actor,
        coalesce(target.principal, f.represented_principal, f.target_user_id) as target,
        to_char(f.event_ts at time zone p.time_zone, 'HH24:MI') as local_time,
        extract(hour from f.event_ts at time zone p.time_zone) >= {{ policy('OFF_HOURS_START') }}
        or extract(hour from f.event_ts at time zone p.time_zone) < {{ policy('OFF_HOURS_END') }}
        or extract(isodow from f.event_ts at time zone p.time_zone) >= 6
        or exists (
            select 1 from {{ ref('public_holidays') }} as h
            where h.member_state = p.member_state
                and cast(h.holiday_date as date) = cast(f.event_ts at time zone p.time_zone as date)
        ) as is_off_hours,
        case
            when f.ip_address ~ {{ ipv4 }}
                then not exists (
                        select 1 from {{ ref('organisation_networks') }} as n
                        where network_subeq(cast(f.ip_address as inet), cast(n.cidr as cidr))
                    )
        end as is_external_source
    from findings as f
    cross join profile as p
    left join users as actor on f.actor_user_id = actor.user_id
    left join users as target on f.target_user_id = target.user_id
)

select
    *,
    case detection_type
        when 'leaver_access' then logins_after_leave > 0 or privileged_entitlements_held > 0
        when 'privileged_grant_unusual' then is_off_hours or coalesce(is_external_source, false)
        else true
    end as is_finding
from judged
where detection_type <> 'privileged_grant_unusual' or is_off_hours or is_external_source
