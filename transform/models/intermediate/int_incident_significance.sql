-- Each incident against every individual significance criterion (IR 2024/2690 Art. 3(1)(a)-(e)
-- and the entity-type Arts. 5-14), with the numbers compared so every verdict can be explained.
-- Recurring incidents (Art. 4) and planned maintenance (Art. 3(2)) are applied in
-- mart_nis2_significance_assessment, which needs this model's verdicts first.
-- Strict ">" everywhere: the texts say "exceeds" / "more than".
with incidents as (
    select * from {{ ref('int_incidents') }}
),

profile as (
    select
        cast(turnover_prev_fy_eur as numeric) as turnover_prev_fy_eur,
        cast(eu_user_base as numeric) as eu_user_base,
        string_to_array(ir_entity_types, ';') as entity_types
    from {{ ref('nis2_entity_profile') }}
    where entity_id = '{{ var("entity_id") }}'
),

limits as (
    select
        least(
            {{ threshold('IR3_1_A_LOSS_EUR') }},
            {{ threshold('IR3_1_A_LOSS_TURNOVER_PCT') }} / 100 * p.turnover_prev_fy_eur
        ) as fin_threshold_eur,
        least({{ threshold('IR7_USERS_PCT') }} / 100 * p.eu_user_base, {{ threshold('IR7_USERS_ABS') }})
            as users_5pct_or_1m,
        least(
            {{ threshold('IR14_C_USERS_PCT') }} / 100 * p.eu_user_base,
            {{ threshold('IR14_C_USERS_ABS') }}
        ) as users_1pct_or_200k,
        least(
            {{ threshold('IR14_E_USERS_PCT') }} / 100 * p.eu_user_base,
            {{ threshold('IR14_E_USERS_ABS') }}
        ) as users_01pct_or_100,
        p.*
    from profile as p
),

facts as (
    select
        i.incident_id,
        coalesce(i.estimated_direct_loss_eur, 0) as loss_eur,
        coalesce(i.outage_minutes, 0) as outage_min,
        coalesce(i.limited_availability_minutes, 0) as limited_min,
        coalesce(i.affected_users, 0) as affected_users,
        i.cia_compromised,
        i.suspected_malicious = 'yes' as malicious,
        i.suspected_malicious,
        i.category,
        -- IR Art. 14(b): unavailability summed per calendar week across the entity's incidents
        sum(coalesce(i.outage_minutes, 0)) over (
            partition by date_trunc('week', coalesce(i.aware_at, i.detected_at))
        ) as week_outage_min,
        l.*
    from incidents as i
    cross join limits as l
),

criteria as (
    {% set rows = [
        ('c_3_1_a', 'all', "loss_eur > fin_threshold_eur",
         "'direct loss EUR ' || loss_eur || ' vs threshold EUR ' || round(fin_threshold_eur, 2) || ' (lower of 500 000 and 5 % of turnover)'"),
        ('c_3_1_b', 'all', "category = 'trade_secret_exfiltration'",
         "'category ' || coalesce(category, 'unknown')"),
        ('c_3_1_c', 'all', "category = 'death'", "'category ' || coalesce(category, 'unknown')"),
        ('c_3_1_d', 'all', "category = 'health_damage'",
         "'category ' || coalesce(category, 'unknown')"),
        ('c_3_1_e', 'all', "cia_compromised and malicious",
         "'successful (CIA compromised) suspectedly malicious unauthorised access, category ' || coalesce(category, 'unknown')"),
        ('c_art5_a', 'dns_service', "outage_min > " ~ threshold('IR5_A_UNAVAILABLE_MINUTES'),
         "'resolution unavailable ' || outage_min || ' min'"),
        ('c_art6_a', 'tld_registry', "outage_min > " ~ threshold('IR6_A_UNAVAILABLE_MINUTES'),
         "'resolution unavailable ' || outage_min || ' min'"),
        ('c_art7_a', 'cloud_computing', "outage_min > " ~ threshold('IR7_A_UNAVAILABLE_MINUTES'),
         "'service unavailable ' || outage_min || ' min'"),
        ('c_art7_b', 'cloud_computing',
         "limited_min > " ~ threshold('IR7_B_LIMITED_MINUTES') ~ " and affected_users > users_5pct_or_1m",
         "'limited ' || limited_min || ' min for ' || affected_users || ' users vs ' || round(users_5pct_or_1m)"),
        ('c_art7_c', 'cloud_computing', "cia_compromised and malicious",
         "'CIA compromised, suspected malicious'"),
        ('c_art7_d', 'cloud_computing', "cia_compromised and affected_users > users_5pct_or_1m",
         "'CIA compromised for ' || affected_users || ' users vs ' || round(users_5pct_or_1m)"),
        ('c_art8_a', 'data_centre', "outage_min > 0", "'data centre service unavailable ' || outage_min || ' min'"),
        ('c_art8_b', 'data_centre', "limited_min > " ~ threshold('IR8_B_LIMITED_MINUTES'),
         "'limited ' || limited_min || ' min'"),
        ('c_art8_c', 'data_centre', "cia_compromised and malicious", "'CIA compromised, suspected malicious'"),
        ('c_art9_a', 'cdn', "outage_min > " ~ threshold('IR9_A_UNAVAILABLE_MINUTES'),
         "'service unavailable ' || outage_min || ' min'"),
        ('c_art9_b', 'cdn',
         "limited_min > " ~ threshold('IR9_B_LIMITED_MINUTES') ~ " and affected_users > users_5pct_or_1m",
         "'limited ' || limited_min || ' min for ' || affected_users || ' users vs ' || round(users_5pct_or_1m)"),
        ('c_art9_c', 'cdn', "cia_compromised and malicious", "'CIA compromised, suspected malicious'"),
        ('c_art9_d', 'cdn', "cia_compromised and affected_users > users_5pct_or_1m",
         "'CIA compromised for ' || affected_users || ' users vs ' || round(users_5pct_or_1m)"),
        ('c_art10_a', 'managed_service', "outage_min > " ~ threshold('IR10_A_UNAVAILABLE_MINUTES'),
         "'service unavailable ' || outage_min || ' min'"),
        ('c_art10_b', 'managed_service',
         "limited_min > " ~ threshold('IR10_B_LIMITED_MINUTES') ~ " and affected_users > users_5pct_or_1m",
         "'limited ' || limited_min || ' min for ' || affected_users || ' users vs ' || round(users_5pct_or_1m)"),
        ('c_art10_c', 'managed_service', "cia_compromised and malicious", "'CIA compromised, suspected malicious'"),
        ('c_art10_d', 'managed_service', "cia_compromised and affected_users > users_5pct_or_1m",
         "'CIA compromised for ' || affected_users || ' users vs ' || round(users_5pct_or_1m)"),
        ('c_art11_a', 'online_marketplace', "outage_min > 0 and affected_users > users_5pct_or_1m",
         "'unavailable for ' || affected_users || ' users vs ' || round(users_5pct_or_1m)"),
        ('c_art11_b', 'online_marketplace', "limited_min > 0 and affected_users > users_5pct_or_1m",
         "'limited for ' || affected_users || ' users vs ' || round(users_5pct_or_1m)"),
        ('c_art11_c', 'online_marketplace', "cia_compromised and malicious", "'CIA compromised, suspected malicious'"),
        ('c_art11_d', 'online_marketplace', "cia_compromised and affected_users > users_5pct_or_1m",
         "'CIA compromised for ' || affected_users || ' users vs ' || round(users_5pct_or_1m)"),
        ('c_art12_a', 'online_search_engine', "outage_min > 0 and affected_users > users_5pct_or_1m",
         "'unavailable for ' || affected_users || ' users vs ' || round(users_5pct_or_1m)"),
        ('c_art12_b', 'online_search_engine', "limited_min > 0 and affected_users > users_5pct_or_1m",
         "'limited for ' || affected_users || ' users vs ' || round(users_5pct_or_1m)"),
        ('c_art12_c', 'online_search_engine', "cia_compromised and malicious", "'CIA compromised, suspected malicious'"),
        ('c_art12_d', 'online_search_engine', "cia_compromised and affected_users > users_5pct_or_1m",
         "'CIA compromised for ' || affected_users || ' users vs ' || round(users_5pct_or_1m)"),
        ('c_art13_a', 'social_network', "outage_min > 0 and affected_users > users_5pct_or_1m",
         "'unavailable for ' || affected_users || ' users vs ' || round(users_5pct_or_1m)"),
        ('c_art13_b', 'social_network', "limited_min > 0 and affected_users > users_5pct_or_1m",
         "'limited for ' || affected_users || ' users vs ' || round(users_5pct_or_1m)"),
        ('c_art13_c', 'social_network', "cia_compromised and malicious", "'CIA compromised, suspected malicious'"),
        ('c_art13_d', 'social_network', "cia_compromised and affected_users > users_5pct_or_1m",
         "'CIA compromised for ' || affected_users || ' users vs ' || round(users_5pct_or_1m)"),
        ('c_art14_a', 'trust_service', "outage_min > " ~ threshold('IR14_A_UNAVAILABLE_MINUTES'),
         "'trust service unavailable ' || outage_min || ' min'"),
        ('c_art14_b', 'trust_service', "week_outage_min > " ~ threshold('IR14_B_WEEKLY_UNAVAILABLE_MINUTES'),
         "'unavailable ' || week_outage_min || ' min in the calendar week'"),
        ('c_art14_c', 'trust_service', "limited_min > 0 and affected_users > users_1pct_or_200k",
         "'limited for ' || affected_users || ' users vs ' || round(users_1pct_or_200k)"),
        ('c_art14_e', 'trust_service', "cia_compromised and affected_users > users_01pct_or_100",
         "'CIA compromised for ' || affected_users || ' users vs ' || round(users_01pct_or_100)"),
    ] %}
    {% for code, entity_type, condition, detail in rows %}
        select
            incident_id,
            '{{ code }}' as criterion_code,
            '{{ entity_type }}' as entity_type,
            {% if entity_type == 'all' %}true{% else %}'{{ entity_type }}' = any(entity_types){% endif %}
                as applies,
            coalesce({{ condition }}, false) as met,
            {{ detail }} as detail,
            fin_threshold_eur,
            users_5pct_or_1m
        from facts
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    incident_id,
    string_agg(criterion_code, ';' order by criterion_code) filter (where applies and met)
        as criteria_met,
    string_agg(criterion_code || ': ' || detail, '; ' order by criterion_code)
    filter (where applies and met) as met_details,
    {% for code in ['c_3_1_a', 'c_3_1_b', 'c_3_1_c', 'c_3_1_d', 'c_3_1_e', 'c_art7_a', 'c_art7_b', 'c_art7_c', 'c_art7_d', 'c_art11_a', 'c_art11_b', 'c_art11_c', 'c_art11_d', 'c_art14_a', 'c_art14_b', 'c_art14_c', 'c_art14_e'] %}
        coalesce(bool_or(met and applies) filter (where criterion_code = '{{ code }}'), false)
            as {{ code }},
    {% endfor %}
    round(max(fin_threshold_eur), 2) as fin_threshold_eur,
    round(max(users_5pct_or_1m), 2) as users_5pct_or_1m
from criteria
group by incident_id
