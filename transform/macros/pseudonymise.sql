{#- Keyed pseudonyms (HMAC-SHA256) for people and IP addresses in management-facing marts.

    pgcrypto is not shipped with the embedded PostgreSQL, so HMAC (RFC 2104) is built from
    the core sha256() function. The key is read from the session setting nis2.pseudonym_key
    (set it with PGOPTIONS="-c nis2.pseudonym_key=..." or ALTER ROLE ... SET), so it never
    appears in compiled SQL, dbt logs or run artefacts. -#}

{% macro nis2_check_pseudonym_key() %}
    {% if execute %}
        {% set result = run_query(
            "select coalesce(length(current_setting('nis2.pseudonym_key', true)), 0)"
        ) %}
        {% set key_length = result.columns[0].values()[0] %}
        {% if key_length < 16 %}
            {{ exceptions.raise_compiler_error(
                "The pseudonymisation key is missing or shorter than 16 characters. Set the "
                ~ "PostgreSQL session setting nis2.pseudonym_key, e.g. "
                ~ "PGOPTIONS='-c nis2.pseudonym_key=<secret>' (see transform/README.md)."
            ) }}
        {% endif %}
    {% endif %}
    select 1
{% endmacro %}

{% macro nis2_create_hmac_function() %}
    create schema if not exists {{ target.schema }}_util;
    create or replace function {{ target.schema }}_util.hmac_pads(out ipad bytea, out opad bytea)
    language plpgsql stable as $fn$
    declare
        k bytea := convert_to(current_setting('nis2.pseudonym_key'), 'UTF8');
        i int;
    begin
        if length(k) > 64 then
            k := sha256(k);
        end if;
        k := k || decode(repeat('00', 64 - length(k)), 'hex');
        ipad := k;
        opad := k;
        for i in 0..63 loop
            ipad := set_byte(ipad, i, get_byte(k, i) # 54);
            opad := set_byte(opad, i, get_byte(k, i) # 92);
        end loop;
    end;
    $fn$;
{% endmacro %}

{% macro pseudonymise(expr) -%}
    {#- 'p_' + first 24 hex digits of HMAC-SHA256(key, value); null stays null. -#}
    case when {{ expr }} is not null then
        'p_' || left(encode(sha256(
            (select opad from {{ target.schema }}_util.hmac_pads())
            || sha256((select ipad from {{ target.schema }}_util.hmac_pads())
                || convert_to(lower(cast({{ expr }} as text)), 'UTF8'))
        ), 'hex'), 24)
    end
{%- endmacro %}

{% macro ip_network(expr) -%}
    {#- The network an address belongs to, /24 for IPv4 and /48 for IPv6 ('198.51.100.0/24'),
        so a pseudonym of it groups neighbours without naming the host. A value that is not an
        address gives null instead of stopping the build. -#}
    case when pg_input_is_valid(cast({{ expr }} as text), 'inet') then cast(network(set_masklen(
        cast(cast({{ expr }} as text) as inet),
        case when family(cast(cast({{ expr }} as text) as inet)) = 4 then 24 else 48 end
    )) as text) end
{%- endmacro %}
