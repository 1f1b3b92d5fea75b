{#- The incremental windows of the authentication and access marts: the cut of the
    auth-failure detections (M6) and each account's first accesses for the access anomalies
    (M11), kept by the models' pre-hooks. Their parts: key_snapshots.sql (what changed in small
    Keycloak tables), privileged_access.sql (M7 and the privileged accounts) and
    access_firsts.sql (the steps of M11's pre-hook). -#}

{#- M6 (auth failure detections), incremental. A detection is an episode of flagged events of
    one key (account, source IP, or all lockouts of a source) closer than the window to each
    other; an event is flagged from the events in the window before it. So events new since
    the last build (new in the staging facts, or Keycloak events of a user whose principal
    changed) can change flags only at or after the earliest
    of them, T, and can only join an episode that reaches T - window. Per source system the
    cut is T - window, moved back to the start of any detection that straddles it (repeated
    until none does). Detections from the cut on are deleted here and recomputed by the model
    from the events after cut - 2 windows (the look-back of flags, spray buckets and the
    failures counted into a detection); every detection before the cut ended before it and
    its inputs did not change. The cuts live in a temporary table of this transaction. -#}
{% macro auth_detection_window() -%}
    make_interval(mins => cast({{ policy('BRUTEFORCE_WINDOW_MINUTES') }} as integer))
{%- endmacro %}

{% macro auth_detection_lookback() -%}
    greatest(
        {{ auth_detection_window() }},
        make_interval(mins => cast({{ threshold('TIG_LOCKOUTS_WINDOW_MINUTES') }} as integer))
    ) * 2
{%- endmacro %}

{% macro auth_detection_cuts() %}
    create temporary table auth_detection_cuts on commit drop as
    with recursive changed as (
        -- events loaded since the last build, read from the staging facts (index on the load
        -- time); every one counts, auth event or not: an earlier cut only recomputes more
        select
            'didit' as source_system,
            l.event_ts
        from {{ ref('stg_didit__audit_logs') }} as l
        where {{ new_since_last_build('l.loaded_at', 'stg_didit__audit_logs') }}
        union all
        select
            'keycloak',
            e.event_ts
        from {{ ref('stg_keycloak__events') }} as e
        where {{ new_since_last_build('e.loaded_at', 'stg_keycloak__events') }}
        union all
        -- and the Keycloak events of users whose principal changed (read only then): they
        -- moved from one account's windows to another's
        select
            a.source_system,
            a.event_ts
        from {{ ref('int_auth_events') }} as a
        where exists (select 1 from ({{ changed_keys(keycloak_principals_sql(), 'users') }}) as x)
            and a.source_system = 'keycloak'
            and a.user_id in (
                select x.key from ({{ changed_keys(keycloak_principals_sql(), 'users') }}) as x
            )
    ),

    cut (source_system, cut_at) as (
        select
            source_system,
            min(event_ts) - {{ auth_detection_window() }}
        from changed
        group by source_system
        union all
        select
            c.source_system,
            n.next_cut
        from cut as c
        cross join lateral (
            select min(d.detected_at) as next_cut
            from {{ this }} as d
            where d.source_system = c.source_system
                and d.detected_at < c.cut_at
                and d.window_end >= c.cut_at
        ) as n
        where n.next_cut is not null
    )

    select
        source_system,
        min(cut_at) as cut_at
    from cut
    group by source_system;

    analyze auth_detection_cuts;

    delete from {{ this }} as d
    using auth_detection_cuts as c
    where d.source_system = c.source_system and d.detected_at >= c.cut_at
{% endmacro %}

{#- M11 (access anomalies). A row is an account's first access from an address, after the
    account's learning period. What decides that is small: per account and address (and per
    account and country) the time first seen. The model keeps these firsts in
    <schema>_util.mart_nis2_access_anomalies__ip_firsts / __country_firsts, updated by its
    pre-hook from the accesses loaded since the last build (all of them in a full build, and
    when a Keycloak user's principal changed, which moves older log-ins to another account);
    a first that moved (new, or earlier or equal: another access at the same instant) is
    marked changed, and the model looks up the accesses at those instants through the
    event-time index of the staging tables. -#}
{% macro access_anomaly_state() %}
    {%- set didit_new = new_since_last_build('l.loaded_at', 'stg_didit__audit_logs') -%}
    {%- set keycloak_new = new_since_last_build('e.loaded_at', 'stg_keycloak__events') -%}
    {{ access_firsts_create() }};

    -- everything is read again in a full build, when no firsts are kept yet, or when a
    -- Keycloak user whose older log-ins are counted changed principal
    {{ access_rebuild_decide(keycloak_new) }};

    {{ access_new_firsts_collect(didit_new, keycloak_new) }};

    -- accounts whose first access moves earlier: their learning period moves, so all their
    -- addresses are judged again
    {{ access_shifted_collect() }};

    {% if is_incremental() -%}
        {{ access_anomalies_pre_delete() }};
    {%- endif %}

    {{ access_firsts_update() }}
{% endmacro %}

{% macro new_since_last_build(column, input) -%}
    {#- Rows of input loaded after this model last read it (a watermark per input, see
        loaded_after_watermark in macros/incremental.sql, which inlines it as a constant). -#}
    {{ loaded_after_watermark(column, this.identifier ~ ':' ~ input) }}
{%- endmacro %}
