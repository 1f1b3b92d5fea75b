-- Each incident against the criteria of IR 2024/2690 Art. 3(1)(a)-(e) and Arts. 5-14 (one row
-- per incident from int_incident_significance_criteria): the codes met, one boolean per
-- criterion, every applicable criterion as value vs threshold with its derivation, and the
-- facts the register lacks. Recurring incidents (Art. 4), planned maintenance (Art. 3(2)) and
-- the entity's own decision are applied in mart_nis2_significance_assessment.
{%- set codes = significance_criterion_codes() %}
with criteria as (
    select * from {{ ref('int_incident_significance_criteria') }}
),

facts as (
    select
        incident_id,
        fin_threshold_eur,
        users_art11
    from {{ ref('int_incident_significance_facts') }}
)

select
    c.incident_id,
    string_agg(c.criterion_code, ';' order by c.criterion_code) filter (where c.applies and c.met)
        as criteria_met,
    string_agg(
        c.criterion_code || ' (' || c.article || '): ' || c.value_text || ' vs ' || c.threshold_text,
        '; ' order by c.criterion_code
    ) filter (where c.applies and c.met) as met_details,
    string_agg(
        c.criterion_code || ' (' || c.article || '): ' || c.value_text || ' vs ' || c.threshold_text
        || case when c.met then ' - met' else ' - not met' end,
        '; ' order by c.criterion_code
    ) filter (where c.applies) as criteria_explained,
    string_agg(c.criterion_code || ': ' || c.missing_facts, '; ' order by c.criterion_code)
    filter (where c.applies and c.missing_facts is not null) as missing_facts,
    {% for code in codes %}
        coalesce(bool_or(c.met and c.applies) filter (where c.criterion_code = '{{ code }}'), false)
            as {{ code }},
    {% endfor %}
    round(max(f.fin_threshold_eur), 2) as fin_threshold_eur,
    round(max(f.users_art11), 2) as users_5pct_or_1m
from criteria as c
inner join facts as f on c.incident_id = f.incident_id
group by c.incident_id
