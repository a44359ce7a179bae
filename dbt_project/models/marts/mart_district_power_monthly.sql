-- Per division and month: enterprises in existence at month end, how many used electricity, and how much.
with enterprises as (
    select * from {{ ref('int_enterprises_registered') }}
),

consumption as (
    select * from {{ ref('stg_power__consumption') }}
),

divisions as (
    select * from {{ ref('stg_reference__divisions') }}
),

months as (
    select * from {{ ref('int_months') }}
),

stock as (
    select
        months.month,
        enterprises.district_code,
        count(*) as enterprises
    from months
    inner join enterprises
        on enterprises.established_on <= months.month_end
        and (enterprises.deregistered_on is null or enterprises.deregistered_on > months.month_end)
    group by months.month, enterprises.district_code
),

power_use as (
    select
        consumption.month,
        enterprises.district_code,
        count(distinct case when consumption.kwh > 0 then consumption.enterprise_id end) as enterprises_with_power,
        cast(round(sum(consumption.kwh), 1) as double) as power_kwh
    from consumption
    inner join enterprises on consumption.enterprise_id = enterprises.enterprise_id
    group by consumption.month, enterprises.district_code
)

select
    months.month_start,
    months.month,
    divisions.district_code,
    divisions.district_name,
    coalesce(stock.enterprises, 0) as enterprises,
    coalesce(power_use.enterprises_with_power, 0) as enterprises_with_power,
    coalesce(power_use.power_kwh, 0.0) as power_kwh,
    case
        when coalesce(stock.enterprises, 0) = 0 then 0.0
        else round(least(coalesce(power_use.enterprises_with_power, 0) / stock.enterprises, 1.0), 6)
    end as power_active_rate
from months
cross join divisions
left join stock
    on stock.month = months.month and stock.district_code = divisions.district_code
left join power_use
    on power_use.month = months.month and power_use.district_code = divisions.district_code
