{#- The significance criteria of IR 2024/2690 Art. 3(1)(a)-(e) and Arts. 5-14, one boolean column
    each in int_incident_significance_criteria: the one list both int_incident_significance and
    mart_nis2_significance_assessment iterate. -#}

{% macro significance_criterion_codes() %}
    {{ return(['c_3_1_a', 'c_3_1_b', 'c_3_1_c', 'c_3_1_d', 'c_3_1_e',
               'c_art5_a', 'c_art5_b', 'c_art5_c', 'c_art6_a', 'c_art6_b', 'c_art6_c',
               'c_art7_a', 'c_art7_b', 'c_art7_c', 'c_art7_d',
               'c_art8_a', 'c_art8_b', 'c_art8_c', 'c_art8_d',
               'c_art9_a', 'c_art9_b', 'c_art9_c', 'c_art9_d',
               'c_art10_a', 'c_art10_b', 'c_art10_c', 'c_art10_d',
               'c_art11_a', 'c_art11_b', 'c_art11_c', 'c_art11_d',
               'c_art12_a', 'c_art12_b', 'c_art12_c', 'c_art12_d',
               'c_art13_a', 'c_art13_b', 'c_art13_c', 'c_art13_d',
               'c_art14_a', 'c_art14_b', 'c_art14_c', 'c_art14_d', 'c_art14_e']) }}
{% endmacro %}
