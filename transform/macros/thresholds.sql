{#- Every regulatory number lives in seed nis2_thresholds, every internal policy number in
    seed detection_policy; models read them here and never hard-code them. -#}

{% macro threshold(code) -%}
    (
        select cast(value as numeric) from {{ ref('nis2_thresholds') }}
        where threshold_code = '{{ code }}'
    )
{%- endmacro %}

{% macro policy(code) -%}
    (
        select cast(value as numeric) from {{ ref('detection_policy') }}
        where policy_code = '{{ code }}'
    )
{%- endmacro %}
