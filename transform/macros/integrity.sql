{#- Tamper evidence (Annex 3.2.5): a digest per partition and a chain across partitions. -#}

{% macro partition_digest(row_hash_column) -%}
    encode(sha256(convert_to(
        string_agg({{ row_hash_column }}, '' order by {{ row_hash_column }}), 'UTF8'
    )), 'hex')
{%- endmacro %}

{% macro hash_chain(relation, partition_by, order_by, digest_column) %}
    {#- chain_n = sha256(chain_{n-1} || digest_n), folded with a recursive CTE per partition. -#}
    with recursive ordered as (
        select
            *,
            row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as chain_pos
        from {{ relation }}
    ),

    chain as (
        select
            o.*,
            cast(null as text) as prev_chain_digest,
            encode(sha256(convert_to(o.{{ digest_column }}, 'UTF8')), 'hex') as chain_digest
        from ordered as o
        where o.chain_pos = 1
        union all
        select
            o.*,
            c.chain_digest,
            encode(sha256(convert_to(c.chain_digest || o.{{ digest_column }}, 'UTF8')), 'hex')
        from chain as c
        inner join ordered as o
            on o.{{ partition_by }} = c.{{ partition_by }} and o.chain_pos = c.chain_pos + 1
    )

    select * from chain
{% endmacro %}

{% macro sealed_row_hashes(row_hash_column) -%}
    {#- The row hashes sealed, as one bytea: the first 16 bytes of each, in the digest's order
        (a second preimage of 128 bits is out of reach; a quarter of the size of the hex). -#}
    string_agg(decode(left({{ row_hash_column }}, 32), 'hex'), '' order by {{ row_hash_column }})
{%- endmacro %}

{% macro sealed_rows_missing(sealed, current) -%}
    {#- How many row hashes of `sealed` (as sealed_row_hashes) are not in `current`, counted as
        multisets: rows edited or deleted since the seal; 0 when nothing was sealed. -#}
    (
        select count(*) from (
            select substring({{ sealed }} from g * 16 + 1 for 16)
            from generate_series(0, length({{ sealed }}) / 16 - 1) as g
            except all
            select substring({{ current }} from g * 16 + 1 for 16)
            from generate_series(0, length({{ current }}) / 16 - 1) as g
        ) as missing
    )
{%- endmacro %}
