-- Identity assurance from Didit verifications (Annex 11.5.1-11.5.2: unique identities linked to
-- one person; 11.6.2(b) and 10.2.2(b): verify identity before issuing credentials or a role).
-- One row per verified identity (Didit user); manual decision overrides are counted because a
-- human changing a verification outcome is itself evidence to review.
with users as (
    select * from {{ ref('stg_didit__users') }}
),

sessions as (
    select * from {{ ref('stg_didit__sessions') }}
    where session_kind is distinct from 'business'
),

verification as (
    select
        didit_internal_id,
        min(created_at) filter (where session_status = 'Approved') as first_verified_at,
        count(*) as sessions,
        count(*) filter (where session_status = 'Approved') as approved_sessions,
        count(*) filter (where session_status = 'Declined') as declined_sessions,
        count(distinct vendor_data) as vendor_ids
    from sessions
    where didit_internal_id is not null
    group by didit_internal_id
),

overrides as (
    select
        s.didit_internal_id,
        count(*) as manual_status_overrides,
        max(r.created_at) as last_override_at
    from {{ ref('stg_didit__session_reviews') }} as r
    inner join sessions as s on r.session_id = s.session_id
    where r.activity_type = 'STATUS_UPDATED' and r.actor_type = 'CONSOLE_USER'
    group by s.didit_internal_id
)

select
    {{ pseudonymise('u.didit_internal_id') }} as identity_key,
    u.user_status,
    u.created_at,
    v.first_verified_at,
    case
        when v.first_verified_at is not null then 'verified'
        when coalesce(v.declined_sessions, 0) > 0 then 'declined'
        else 'unverified'
    end as verification_level,
    coalesce(v.first_verified_at <= u.created_at + interval '1 day', false)
        as verified_before_creation,
    coalesce(v.sessions, 0) as verification_sessions,
    coalesce(v.approved_sessions, 0) as approved_sessions,
    coalesce(v.declined_sessions, 0) as declined_sessions,
    coalesce(o.manual_status_overrides, 0) as manual_status_overrides,
    o.last_override_at,
    coalesce(v.vendor_ids, 0) <= 1 as linked_to_single_person
from users as u
left join verification as v on u.didit_internal_id = v.didit_internal_id
left join overrides as o on u.didit_internal_id = o.didit_internal_id
