-- Every successful Keycloak log-in with the evidence of a second factor at that moment (Annex
-- 11.7, 11.3.2(a)). Keycloak records no per-login "MFA used" field, so the evidence is the
-- account's enrolment: a second factor counts if it was enrolled at or before the log-in and not
-- yet removed. Removal is dated by Keycloak's own events (REMOVE_CREDENTIAL, REMOVE_TOTP) when
-- they exist, else by the load that saw the credential row gone. Privilege is judged at log-in
-- time from the role intervals; exceptions from the register (behind M16) only while approved
-- and not expired.
-- Incremental: log-ins loaded since the last build are added; a log-in already built is
-- recomputed when anything it was judged on changed since: its account's row, credentials,
-- credential events or role intervals (inputs_digest per account), or the register of MFA
-- exceptions, the client list or the MFA method tiers (a change there recomputes every row).
-- A table built before inputs_digest existed gets the column empty (every row is recomputed)
-- and the index on (user_id, inputs_digest) the check of stored digests walks through.
{{ config(
    materialized='incremental',
    unique_key='login_event_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['login_event_id'], 'unique': True}],
    pre_hook=[
        "{{ reset_watermark_on_full_build() }}",
        "alter table if exists {{ this }} add column if not exists inputs_digest text",
    ],
    post_hook=[
        "{{ save_watermark(ref('stg_keycloak__events')) }}",
        "do $idx$ begin
            if not exists (
                select 1 from pg_index as i
                where i.indrelid = to_regclass('{{ this }}')
                    and pg_get_indexdef(i.indexrelid) like '%(user_id, inputs_digest)'
            ) then
                create index on {{ this }} (user_id, inputs_digest);
                create index on {{ this }} (inputs_digest) where user_id is null;
            end if;
        end $idx$",
    ]
) }}

with users as (
    select
        user_id,
        username,
        email,
        is_service_account
    from {{ ref('stg_keycloak__users') }}
),

mfa_types as (
    select
        credential_type,
        method_tier,
        phishing_resistant
    from {{ ref('mfa_methods') }}
    where counts_as_mfa
),

-- Keycloak writes REMOVE_CREDENTIAL (plus REMOVE_TOTP for an OTP) when a factor is removed and
-- UPDATE_CREDENTIAL (plus UPDATE_TOTP) when one is set up, naming the credential's type and id;
-- a failed attempt carries an error and changes nothing
credential_events as materialized (
    select
        user_id,
        event_ts,
        event_type in ('REMOVE_CREDENTIAL', 'REMOVE_TOTP') as is_removal,
        case
            when event_type in ('UPDATE_TOTP', 'REMOVE_TOTP') then 'otp'
            else lower(details ->> 'credential_type')
        end as credential_type,
        coalesce(details ->> 'credential_id', details ->> 'selected_credential_id')
            as credential_id
    from {{ ref('stg_keycloak__events') }}
    where
        event_type in ('UPDATE_CREDENTIAL', 'UPDATE_TOTP', 'REMOVE_CREDENTIAL', 'REMOVE_TOTP')
        and error is null
        and user_id is not null
),

removals as (
    select
        user_id,
        credential_type,
        credential_id,
        event_ts
    from credential_events
    where is_removal
),

factor_intervals as materialized (
    -- a credential row counts from its creation until the first removal event naming it (or
    -- its type, when the event names no id), or until the loader saw the row gone
    select
        c.user_id,
        c.credential_type,
        c.created_at as valid_from,
        least(c.removed_at, (
            select min(r.event_ts) from removals as r
            where
                r.user_id = c.user_id
                and r.credential_type = c.credential_type
                and (r.credential_id is null or r.credential_id = c.credential_id)
                and r.event_ts >= c.created_at
        )) as valid_until
    from {{ ref('stg_keycloak__credentials') }} as c
    where c.credential_type in (select t.credential_type from mfa_types as t)
    union all
    -- a factor set up and removed between two loads never shows in the credential table: its
    -- events bound it; an enrolment no removal event has ended counts only through its row
    select
        e.user_id,
        e.credential_type,
        e.event_ts,
        x.removed_at
    from credential_events as e
    cross join
        lateral (
            select min(r.event_ts) as removed_at from removals as r
            where
                r.user_id = e.user_id
                and r.credential_type = e.credential_type
                and (
                    r.credential_id is null or e.credential_id is null
                    or r.credential_id = e.credential_id
                )
                and r.event_ts >= e.event_ts
        ) as x
    where
        not e.is_removal
        and x.removed_at is not null
        and e.credential_type in (select t.credential_type from mfa_types as t)
),

privileged as (
    select
        user_id,
        role_name,
        privileged_from,
        privileged_until
    from {{ ref('int_keycloak_privileged_accounts') }}
),

exceptions as (
    select
        exception_id,
        scope_type,
        lower(scope_value) as scope_value,
        approved_at,
        expires_at
    from {{ ref('int_policy_exceptions') }}
    where linked_metric = 'mfa_coverage' and invalid_fields = ''
),

clients as (
    select
        client_id,
        internet_facing
    from {{ ref('keycloak_clients') }}
),

-- what every log-in is judged on besides its account: a change recomputes every row
settings_digest as (
    select
        md5(
            coalesce((
                select string_agg(cast(e as text), ';' order by cast(e as text))
                from exceptions as e
            ), '')
            || '|' || coalesce((
                select string_agg(cast(k as text), ';' order by cast(k as text))
                from clients as k
            ), '')
            || '|' || coalesce((
                select string_agg(cast(t as text), ';' order by cast(t as text))
                from mfa_types as t
            ), '')
        ) as digest
),

-- what one account's log-ins are judged on: its row, factor intervals and role intervals
account_digests as (
    select
        p.user_id,
        md5(s.digest || string_agg(p.part, ';' order by p.part)) as digest
    from (
        select
            user_id,
            'account' || cast(row(username, email, is_service_account) as text) as part
        from users
        union all
        select
            user_id,
            'factor' || cast(row(credential_type, valid_from, valid_until) as text)
        from factor_intervals
        union all
        select
            user_id,
            'role' || cast(row(role_name, privileged_from, privileged_until) as text)
        from privileged
    ) as p
    cross join settings_digest as s
    where p.user_id is not null
    group by p.user_id, s.digest
),

-- the (account, digest) pairs already built, found by skipping through the index on them
-- (one probe per account instead of a pass over every log-in)
stored_digests as materialized (  -- noqa: ST03
    {% if is_incremental() %}
        with recursive walk as (
            (
                select
                    t.user_id,
                    t.inputs_digest
                from {{ this }} as t
                where t.user_id is not null and t.inputs_digest is not null
                order by t.user_id asc, t.inputs_digest asc
                limit 1
            )
            union all
            select
                n.user_id,
                n.inputs_digest
            from walk as w
            cross join
                lateral (
                    select
                        t.user_id,
                        t.inputs_digest
                    from {{ this }} as t
                    where (t.user_id, t.inputs_digest) > (w.user_id, w.inputs_digest)
                    order by t.user_id asc, t.inputs_digest asc
                    limit 1
                ) as n
        )

        select
            user_id,
            inputs_digest
        from walk
    {% else %}
        select
            cast(null as text) as user_id,
            cast(null as text) as inputs_digest
        where false
    {% endif %}
),

-- log-ins built before whose account or settings changed since: judged again (log-ins with no
-- account are compared row by row; rows built before inputs_digest existed are all re-read
-- anyway, as that table has no watermark yet)
stale as materialized (
    {% if is_incremental() %}
        select t.login_event_id
        from stored_digests as p
        cross join settings_digest as s
        left join account_digests as d on p.user_id = d.user_id
        inner join {{ this }} as t
            on p.user_id = t.user_id and p.inputs_digest = t.inputs_digest
        where p.inputs_digest != coalesce(d.digest, s.digest)
        union all
        select t.login_event_id
        from {{ this }} as t
        cross join settings_digest as s
        where t.user_id is null and t.inputs_digest is distinct from s.digest
    {% else %}
        select cast(null as text) as login_event_id
        where false
    {% endif %}
),

-- the log-ins to judge: all of them in a full build, else those loaded since the last build
-- and the stale ones
logins as (
    {% for part in (['loaded', 'stale'] if is_incremental() else ['all']) %}
        select
            e.event_id,
            e.event_ts,
            e.user_id,
            coalesce(e.client_id, '(no client)') as application,
            e.event_type
        from {{ ref('stg_keycloak__events') }} as e
        {% if part == 'stale' %}
            inner join stale as s on e.event_id = s.login_event_id
        {% endif %}
        where
            e.event_type in ('LOGIN', 'CLIENT_LOGIN')
            and e.error is null
            {% if part == 'loaded' %}
                and {{ loaded_after_watermark('e.loaded_at') }}
            {% elif part == 'stale' %}
                and not {{ loaded_after_watermark('e.loaded_at') }}
            {% endif %}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

-- Per account, the time line cut at every instant where something a log-in is judged on
-- changes (a factor's start or end, a role interval's): inside one segment
-- every log-in is judged alike, so each log-in joins one small row instead of every interval.
breakpoints as (
    select
        user_id,
        cast('-infinity' as timestamptz) as at_ts
    from account_digests
    union
    select
        user_id,
        valid_from
    from factor_intervals
    union
    select
        user_id,
        valid_until
    from factor_intervals
    union
    select
        user_id,
        privileged_from
    from privileged
    union
    select
        user_id,
        privileged_until
    from privileged
),

segments as (
    select
        user_id,
        at_ts as segment_from,
        lead(at_ts) over (partition by user_id order by at_ts) as segment_until
    from breakpoints
    where at_ts is not null and user_id is not null
),

-- what holds for a whole segment is what holds at its start (no interval ends inside it)
segment_factors as (
    select
        g.user_id,
        g.segment_from,
        bool_or(m.phishing_resistant) as phishing_resistant,
        case
            when bool_or(m.method_tier = 'strong') then 'strong'
            when bool_or(m.method_tier = 'medium') then 'medium'
            when bool_or(m.method_tier = 'last_resort') then 'last_resort'
        end as method_tier
    from segments as g
    inner join factor_intervals as f
        on
            g.user_id = f.user_id
            and g.segment_from >= f.valid_from
            and (f.valid_until is null or g.segment_from < f.valid_until)
    inner join mfa_types as m on f.credential_type = m.credential_type
    group by g.user_id, g.segment_from
),

segment_privileged as (
    select distinct
        g.user_id,
        g.segment_from
    from segments as g
    inner join privileged as p
        on
            g.user_id = p.user_id
            and (p.privileged_from is null or g.segment_from >= p.privileged_from)
            and (p.privileged_until is null or g.segment_from < p.privileged_until)
),

-- one row per account: its segments' starts in order and what holds in each, so a log-in
-- finds its segment with width_bucket (a binary search) after an equality join on the account
account_timelines as materialized (
    select
        g.user_id,
        coalesce(bool_or(u.is_service_account), false) as is_service_account,
        min(u.username) as username,
        min(u.email) as email,
        min(d.digest) as digest,
        array_agg(g.segment_from order by g.segment_from) as segment_starts,
        array_agg(f.user_id is not null order by g.segment_from) as has_mfa,
        array_agg(coalesce(f.method_tier, 'none') order by g.segment_from) as method_tier,
        array_agg(coalesce(f.phishing_resistant, false) order by g.segment_from)
            as phishing_resistant,
        array_agg(p.user_id is not null order by g.segment_from) as is_privileged
    from segments as g
    inner join account_digests as d on g.user_id = d.user_id
    left join users as u on g.user_id = u.user_id
    left join segment_factors as f
        on g.user_id = f.user_id and g.segment_from = f.segment_from
    left join segment_privileged as p
        on g.user_id = p.user_id and g.segment_from = p.segment_from
    group by g.user_id
),

classified as (
    select
        l.event_id,
        l.event_ts,
        l.user_id,
        l.application,
        l.event_type,
        t.username,
        t.email,
        coalesce(t.is_service_account, false) as is_service_account,
        coalesce(t.digest, s.digest) as inputs_digest,
        t.has_mfa,
        t.method_tier,
        t.phishing_resistant,
        t.is_privileged,
        width_bucket(l.event_ts, t.segment_starts) as segment,
        coalesce(k.internet_facing, true) as internet_facing
    from logins as l
    cross join settings_digest as s
    left join account_timelines as t on l.user_id = t.user_id
    left join clients as k on l.application = k.client_id
),

judged as (
    select
        event_id,
        event_ts,
        user_id,
        application,
        username,
        email,
        case
            when event_type = 'CLIENT_LOGIN' or is_service_account then 'service'
            when coalesce(is_privileged[segment], false) then 'privileged'
            else 'standard'
        end as principal_class,
        internet_facing,
        coalesce(has_mfa[segment], false) as has_mfa,
        coalesce(method_tier[segment], 'none') as method_tier,
        coalesce(phishing_resistant[segment], false) as phishing_resistant,
        inputs_digest
    from classified
)

select
    c.event_id as login_event_id,
    c.event_ts,
    c.user_id,
    c.application,
    c.principal_class,
    c.internet_facing,
    c.has_mfa,
    c.method_tier,
    c.phishing_resistant,
    -- only log-ins without a second factor look for an exception (the register is small)
    case
        when not c.has_mfa
            then (
                select min(e.exception_id) from exceptions as e
                where
                    c.event_ts >= e.approved_at
                    and c.event_ts < e.expires_at
                    and (
                        (
                            e.scope_type in ('user', 'service_account')
                            and e.scope_value in (c.username, c.email)
                        )
                        or (e.scope_type = 'application' and e.scope_value = lower(c.application))
                        or e.scope_type = 'entity'
                    )
            )
    end as exception_id,
    c.inputs_digest
from judged as c
