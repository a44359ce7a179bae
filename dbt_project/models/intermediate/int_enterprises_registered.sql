-- One row per enterprise: its latest registered attributes and, if deregistered, the date.
with events as (
    select * from {{ ref('stg_samr__registrations') }}
),

latest as (
    select
        *,
        row_number() over (
            partition by enterprise_id order by event_date desc, period desc, source_row_number desc
        ) as recency
    from events
),

deregistrations as (
    select enterprise_id, min(event_date) as deregistered_on
    from events
    where event_type = '注销'
    group by enterprise_id
)

select
    latest.enterprise_id,
    latest.enterprise_name,
    latest.district_code,
    latest.industry_code,
    latest.established_on,
    latest.registered_capital_10k_cny,
    deregistrations.deregistered_on
from latest
left join deregistrations on latest.enterprise_id = deregistrations.enterprise_id
where latest.recency = 1
