-- Every criterion of IR 2024/2690 Art. 3(1)(a)-(e) and Arts. 5-14 that applies to the entity's
-- types (IR Art. 1), per incident: whether it is met, the value against the
-- threshold with the threshold's derivation, the article, and the facts it lacks. Strict ">"
-- where the text says "exceeds" / "more than"; "fewer than" strict and "no more than" at most
-- (Art. 5(c)). A criterion whose facts are missing is not met but names them (missing_facts):
-- the incident then stays pending assessment until the entity decides (see the assessment).
with facts as (
    select * from {{ ref('int_incident_significance_facts') }}
),

criteria as (
    {%- set users = "coalesce(cast(affected_users as text), 'MISSING') || ' users affected'" %}
    {%- set outage = "coalesce(cast(outage_min as text), 'MISSING') || ' min completely unavailable'" %}
    {%- set limited = "coalesce(cast(limited_min as text), 'MISSING') || ' min limited availability'" %}
    {%- set cia = "'CIA compromised: ' || coalesce(cast(cia_compromised as text), 'MISSING')" %}
    {%- set malicious = "'; suspected malicious: ' || coalesce(suspected_malicious, 'unknown')" %}
    {%- set slow = "coalesce(cast(slow_response_minutes as text), 'MISSING') || ' min with average response '
        || coalesce(cast(avg_response_seconds as text), 'MISSING') || ' s'" %}
    {%- set dns_exception = "(dns_compromise_cause = 'misconfiguration' and dns_wrong_domains < "
        ~ threshold('IR5_C_EXCEPTION_DOMAINS') ~ " and dns_wrong_domains <= "
        ~ threshold('IR5_C_EXCEPTION_PCT') ~ " / 100 * dns_managed_domains)" %}
    {%- set rows = [
        ('c_3_1_a', 'all', 'IR Art. 3(1)(a)', "loss_eur > fin_threshold_eur",
         "'direct loss EUR ' || coalesce(cast(loss_eur as text), 'MISSING') || ' (actual ' || coalesce(cast(loss_actual_eur as text), 'MISSING') || ', potential ' || coalesce(cast(loss_potential_eur as text), 'MISSING') || ')'",
         "'more than EUR ' || coalesce(cast(round(fin_threshold_eur, 2) as text), 'MISSING') || ' = ' || fin_derivation",
         "case when loss_eur is null then 'direct loss (actual or potential)' end"),
        ('c_3_1_b', 'all', 'IR Art. 3(1)(b)', "category = 'trade_secret_exfiltration'",
         "'category ' || coalesce(category, 'MISSING')", "'trade secrets exfiltrated (Dir. (EU) 2016/943 Art. 2(1))'",
         "case when category is null then 'category' end"),
        ('c_3_1_c', 'all', 'IR Art. 3(1)(c)', "category = 'death'", "'category ' || coalesce(category, 'MISSING')",
         "'death of a natural person'", "case when category is null then 'category' end"),
        ('c_3_1_d', 'all', 'IR Art. 3(1)(d)', "category = 'health_damage'", "'category ' || coalesce(category, 'MISSING')",
         "'considerable damage to a natural person''s health'", "case when category is null then 'category' end"),
        ('c_3_1_e', 'all', 'IR Art. 3(1)(e)',
         "unauthorised_access_successful and suspected_malicious = 'yes' and severe_disruption_capable",
         "'successful unauthorised access: ' || coalesce(cast(unauthorised_access_successful as text), 'MISSING') || " ~ malicious ~ " || '; capable of severe operational disruption: ' || coalesce(cast(severe_disruption_capable as text), 'MISSING')",
         "'successful, suspectedly malicious and unauthorised access capable of causing severe operational disruption'",
         "case when coalesce(unauthorised_access_successful, true) and suspected_malicious != 'no' and coalesce(severe_disruption_capable, true) then nullif(concat_ws(', ', case when unauthorised_access_successful is null then 'unauthorised_access_successful' end, case when suspected_malicious = 'unknown' then 'suspected_malicious' end, case when severe_disruption_capable is null then 'severe_disruption_capable' end), '') end"),
        ('c_art5_a', 'dns_service', 'IR Art. 5(a)', "outage_min > " ~ threshold('IR5_A_UNAVAILABLE_MINUTES'), outage,
         "'more than ' || " ~ threshold('IR5_A_UNAVAILABLE_MINUTES') ~ " || ' min'", "case when outage_min is null then 'outage' end"),
        ('c_art5_b', 'dns_service', 'IR Art. 5(b)',
         "slow_response_minutes > " ~ threshold('IR5_B_SLOW_DURATION_MINUTES') ~ " and avg_response_seconds > " ~ threshold('IR5_B_RESPONSE_SECONDS'), slow,
         "'more than ' || " ~ threshold('IR5_B_SLOW_DURATION_MINUTES') ~ " || ' min with average response more than ' || " ~ threshold('IR5_B_RESPONSE_SECONDS') ~ " || ' s'",
         "case when slow_response_minutes is null or avg_response_seconds is null then 'slow_response_minutes, avg_response_seconds' end"),
        ('c_art5_c', 'dns_service', 'IR Art. 5(c)', "cia_compromised and not coalesce(" ~ dns_exception ~ ", false)",
         cia ~ " || '; ' || coalesce(cast(dns_wrong_domains as text), 'MISSING') || ' of ' || coalesce(cast(dns_managed_domains as text), 'MISSING') || ' names not correct, cause ' || coalesce(dns_compromise_cause, 'MISSING')",
         "'compromised, except misconfiguration of fewer than ' || " ~ threshold('IR5_C_EXCEPTION_DOMAINS') ~ " || ' names and no more than ' || " ~ threshold('IR5_C_EXCEPTION_PCT') ~ " || ' % of those managed'",
         "case when cia_compromised and " ~ dns_exception ~ " is null then 'dns_wrong_domains, dns_managed_domains, dns_compromise_cause (exception not shown: criterion met)' end"),
        ('c_art6_a', 'tld_registry', 'IR Art. 6(a)', "outage_min > " ~ threshold('IR6_A_UNAVAILABLE_MINUTES'), outage,
         "'completely unavailable (any duration)'", "case when outage_min is null then 'outage' end"),
        ('c_art6_b', 'tld_registry', 'IR Art. 6(b)',
         "slow_response_minutes > " ~ threshold('IR6_B_SLOW_DURATION_MINUTES') ~ " and avg_response_seconds > " ~ threshold('IR6_B_RESPONSE_SECONDS'), slow,
         "'more than ' || " ~ threshold('IR6_B_SLOW_DURATION_MINUTES') ~ " || ' min with average response more than ' || " ~ threshold('IR6_B_RESPONSE_SECONDS') ~ " || ' s'",
         "case when slow_response_minutes is null or avg_response_seconds is null then 'slow_response_minutes, avg_response_seconds' end"),
        ('c_art6_c', 'tld_registry', 'IR Art. 6(c)', "cia_compromised", cia, "'data of the TLD''s technical operation compromised'", "null"),
        ('c_art8_a', 'data_centre', 'IR Art. 8(a)', "outage_min > " ~ threshold('IR8_A_UNAVAILABLE_MINUTES'), outage,
         "'completely unavailable (any duration)'", "case when outage_min is null then 'outage' end"),
        ('c_art8_b', 'data_centre', 'IR Art. 8(b)', "limited_min > " ~ threshold('IR8_B_LIMITED_MINUTES'), limited,
         "'more than ' || " ~ threshold('IR8_B_LIMITED_MINUTES') ~ " || ' min'", "case when limited_min is null then 'limited_availability_minutes' end"),
        ('c_art8_c', 'data_centre', 'IR Art. 8(c)', "cia_compromised and suspected_malicious = 'yes'", cia ~ " || " ~ malicious,
         "'compromised by a suspectedly malicious action'", "case when cia_compromised and suspected_malicious = 'unknown' then 'suspected_malicious' end"),
        ('c_art8_d', 'data_centre', 'IR Art. 8(d)', "physical_access_compromised",
         "'physical access compromised: ' || coalesce(cast(physical_access_compromised as text), 'MISSING')",
         "'physical access to a data centre operated by the provider compromised'",
         "case when physical_access_compromised is null then 'physical_access_compromised' end"),
        ('c_art14_a', 'trust_service', 'IR Art. 14(a)', "outage_min > " ~ threshold('IR14_A_UNAVAILABLE_MINUTES'), outage,
         "'more than ' || " ~ threshold('IR14_A_UNAVAILABLE_MINUTES') ~ " || ' min'", "case when outage_min is null then 'outage' end"),
        ('c_art14_b', 'trust_service', 'IR Art. 14(b)', "week_outage_min > " ~ threshold('IR14_B_WEEKLY_UNAVAILABLE_MINUTES'),
         "week_outage_min || ' min unavailable in the calendar week (' || coalesce(week_label, 'no outage') || ', planned maintenance left out)'",
         "'more than ' || " ~ threshold('IR14_B_WEEKLY_UNAVAILABLE_MINUTES') ~ " || ' min per calendar week'",
         "case when outage_start_assumed then 'outage_start_at (week assumed from the incident start or detection)' end"),
        ('c_art14_c', 'trust_service', 'IR Art. 14(c)', "limited_min > 0 and affected_users > users_art14_c", limited ~ " || ', ' || " ~ users,
         "'more than ' || round(users_art14_c) || ' = ' || users_art14_c_derivation",
         "case when limited_min is null or affected_users is null then 'limited_availability_minutes, affected_users' end"),
        ('c_art14_d', 'trust_service', 'IR Art. 14(d)', "physical_access_compromised",
         "'physical access compromised: ' || coalesce(cast(physical_access_compromised as text), 'MISSING')",
         "'physical access to a restricted area with network and information systems compromised'",
         "case when physical_access_compromised is null then 'physical_access_compromised' end"),
        ('c_art14_e', 'trust_service', 'IR Art. 14(e)', "cia_compromised and affected_users > users_art14_e", cia ~ " || ', ' || " ~ users,
         "'more than ' || round(users_art14_e) || ' = ' || users_art14_e_derivation",
         "case when cia_compromised and affected_users is null then 'affected_users' end"),
    ] %}
    {#- Arts. 7, 9, 10 (cloud, CDN, managed services) and 11-13 (marketplaces, search engines,
        social networks) share their structure; each reads its own seed rows. -#}
    {%- for art, et, timed in [('7', 'cloud_computing', true), ('9', 'cdn', true), ('10', 'managed_service', true),
                                ('11', 'online_marketplace', false), ('12', 'online_search_engine', false),
                                ('13', 'social_network', false)] %}
        {%- set u = 'users_art' ~ art %}
        {%- set more = "'more than ' || round(" ~ u ~ ") || ' = ' || " ~ u ~ "_derivation" %}
        {%- if timed %}
            {%- do rows.append(('c_art' ~ art ~ '_a', et, 'IR Art. ' ~ art ~ '(a)', "outage_min > " ~ threshold('IR' ~ art ~ '_A_UNAVAILABLE_MINUTES'), outage,
                "'more than ' || " ~ threshold('IR' ~ art ~ '_A_UNAVAILABLE_MINUTES') ~ " || ' min'", "case when outage_min is null then 'outage' end")) %}
            {%- do rows.append(('c_art' ~ art ~ '_b', et, 'IR Art. ' ~ art ~ '(b)',
                "limited_min > " ~ threshold('IR' ~ art ~ '_B_LIMITED_MINUTES') ~ " and affected_users > " ~ u, limited ~ " || ', ' || " ~ users,
                "'more than ' || " ~ threshold('IR' ~ art ~ '_B_LIMITED_MINUTES') ~ " || ' min for ' || " ~ more,
                "case when limited_min is null or affected_users is null then 'limited_availability_minutes, affected_users' end")) %}
        {%- else %}
            {%- do rows.append(('c_art' ~ art ~ '_a', et, 'IR Art. ' ~ art ~ '(a)', "outage_min > 0 and affected_users > " ~ u,
                outage ~ " || ', ' || " ~ users, more, "case when outage_min is null or affected_users is null then 'outage, affected_users' end")) %}
            {%- do rows.append(('c_art' ~ art ~ '_b', et, 'IR Art. ' ~ art ~ '(b)', "limited_min > 0 and affected_users > " ~ u,
                limited ~ " || ', ' || " ~ users, more, "case when limited_min is null or affected_users is null then 'limited_availability_minutes, affected_users' end")) %}
        {%- endif %}
        {%- do rows.append(('c_art' ~ art ~ '_c', et, 'IR Art. ' ~ art ~ '(c)', "cia_compromised and suspected_malicious = 'yes'", cia ~ " || " ~ malicious,
            "'compromised by a suspectedly malicious action'", "case when cia_compromised and suspected_malicious = 'unknown' then 'suspected_malicious' end")) %}
        {%- do rows.append(('c_art' ~ art ~ '_d', et, 'IR Art. ' ~ art ~ '(d)', "cia_compromised and affected_users > " ~ u, cia ~ " || ', ' || " ~ users, more,
            "case when cia_compromised and affected_users is null then 'affected_users' end")) %}
    {%- endfor %}
    {% for code, entity_type, article, condition, value, limit, missing in rows %}
        select
            incident_id,
            '{{ code }}' as criterion_code,
            '{{ article }}' as article,
            '{{ entity_type }}' as entity_type,
            {% if entity_type == 'all' %}true{% else %}coalesce('{{ entity_type }}' = any(string_to_array(ir_entity_types, ';')), false){% endif %}
                as applies,
            coalesce({{ condition }}, false) as met,
            {{ value }} as value_text,
            {{ limit }} as threshold_text,
            {{ missing }} as missing_facts
        from facts
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    incident_id || ':' || criterion_code as criterion_id,
    *
from criteria
where applies
