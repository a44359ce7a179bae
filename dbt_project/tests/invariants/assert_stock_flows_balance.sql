-- Stock accounting per division: this month's stock = last month's stock + new registrations - deregistrations.
with divisions as (
    select month, district_code, sum(stock) as stock, sum(new_registrations) as new_registrations,
           sum(deregistrations) as deregistrations
    from {{ ref('mart_region_indicators_monthly') }}
    group by month, district_code
),

flows as (
    select *, lag(stock) over (partition by district_code order by month) as previous_stock from divisions
)

select *
from flows
where previous_stock is not null and stock <> previous_stock + new_registrations - deregistrations
