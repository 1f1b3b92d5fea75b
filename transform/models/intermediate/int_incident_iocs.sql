-- Indicators of compromise per incident (Dir. Art. 23(4)(b) "where available"), typed as STIX
-- 2.1 cyber-observables: those written in the register's iocs cell ("type:value;..."), the
-- source addresses and URLs of its linked SIEM alerts, and the rule that fired. Addresses are
-- personal data: they are pseudonymised here like every address in the marts (value_key);
-- domains, URLs and file hashes are kept. The draft names the alerts to resolve them from.
with register as (
    select
        incident_id,
        iocs,
        linked_alert_ids
    from {{ ref('int_incidents') }}
),

from_register as (
    select
        r.incident_id,
        lower(split_part(trim(x.entry), ':', 1)) as ioc_type,
        trim(substr(trim(x.entry), length(split_part(trim(x.entry), ':', 1)) + 2)) as ioc_value,
        'register' as ioc_source,
        cast(null as text) as alert_id
    from register as r
    cross join lateral unnest(string_to_array(r.iocs, ';')) as x (entry)
    where position(':' in x.entry) > 0
),

from_alerts as (
    select
        r.incident_id,
        v.ioc_type,
        v.ioc_value,
        'siem_alert' as ioc_source,
        a.alert_id
    from register as r
    cross join lateral unnest(string_to_array(r.linked_alert_ids, ';')) as l (alert_id)
    inner join {{ ref('stg_wazuh__alerts') }} as a on l.alert_id = a.alert_id
    cross join
        lateral (
            values
            (case when a.src_ip ~ ':' then 'ipv6-addr' else 'ipv4-addr' end, a.src_ip),
            ('url', a.http_url)
        ) as v (ioc_type, ioc_value)
    where v.ioc_value is not null and v.ioc_value != ''
),

unioned as (
    select
        incident_id,
        case ioc_type
            when 'ip' then 'ipv4-addr' when 'ipv4' then 'ipv4-addr' when 'ipv6' then 'ipv6-addr'
            when 'sha256' then 'file:sha256' when 'sha1' then 'file:sha1' when 'md5' then 'file:md5'
            else ioc_type
        end as ioc_type,
        ioc_value,
        ioc_source,
        alert_id
    from from_register
    union all
    select * from from_alerts
)

select
    incident_id,
    ioc_type,
    case when ioc_type not in ('ipv4-addr', 'ipv6-addr', 'email-addr') then ioc_value end as ioc_value,
    case when ioc_type in ('ipv4-addr', 'ipv6-addr', 'email-addr') then {{ pseudonymise('ioc_value') }} end
        as value_key,
    string_agg(distinct ioc_source, ';') as ioc_sources,
    count(alert_id) as alert_count,
    string_agg(distinct alert_id, ';') as alert_ids
from unioned
group by 1, 2, 3, 4
