-- Regional economic indicators (区域经济指标) per GB/T 2260 division x GB/T 4754 section x month: new registrations,
-- deregistrations, stock, net growth, activity rate, registered capital, industry structure, and month-on-month /
-- year-on-year change. Every division x section x month is present (zeros where nothing happened).
with months as (
    select * from {{ ref('int_months') }}
),

enterprises as (
    select * from {{ ref('int_enterprises_registered') }}
),

grid as (
    select months.month, months.month_start, months.month_end, divisions.district_code, divisions.district_name,
           sections.industry_code, sections.industry_name
    from months
    cross join {{ ref('stg_reference__divisions') }} as divisions
    cross join {{ ref('stg_reference__industry_sections') }} as sections
),

flows as (
    select
        months.month,
        enterprises.district_code,
        enterprises.industry_code,
        sum(case when enterprises.established_on between months.month_start and months.month_end then 1 else 0 end)
            as new_registrations,
        sum(case when enterprises.deregistered_on between months.month_start and months.month_end then 1 else 0 end)
            as deregistrations,
        sum(case when enterprises.established_on <= months.month_end
                 and (enterprises.deregistered_on is null or enterprises.deregistered_on > months.month_end)
                 then 1 else 0 end) as stock,
        sum(case when enterprises.established_on between months.month_start and months.month_end
                 then enterprises.registered_capital_10k_cny else 0 end) as new_capital_10k_cny,
        sum(case when enterprises.established_on <= months.month_end
                 and (enterprises.deregistered_on is null or enterprises.deregistered_on > months.month_end)
                 then enterprises.registered_capital_10k_cny else 0 end) as stock_capital_10k_cny
    from months
    cross join enterprises
    group by months.month, enterprises.district_code, enterprises.industry_code
),

activity as (
    select
        month, district_code, industry_code,
        count(*) as scored,
        sum(case when band in ('active', 'normal') then 1 else 0 end) as operating,
        sum(case when band = 'dormant' then 1 else 0 end) as dormant,
        avg(activity_index) as mean_activity_index
    from {{ ref('mart_enterprise_activity_monthly') }}
    group by month, district_code, industry_code
),

joined as (
    select
        grid.*,
        coalesce(flows.new_registrations, 0) as new_registrations,
        coalesce(flows.deregistrations, 0) as deregistrations,
        coalesce(flows.stock, 0) as stock,
        coalesce(flows.new_registrations, 0) - coalesce(flows.deregistrations, 0) as net_growth,
        cast(coalesce(flows.new_capital_10k_cny, 0) as double) as new_capital_10k_cny,
        cast(coalesce(flows.stock_capital_10k_cny, 0) as double) as stock_capital_10k_cny,
        coalesce(activity.operating, 0) as operating,
        coalesce(activity.dormant, 0) as dormant,
        case when coalesce(activity.scored, 0) = 0 then null
             else round(activity.operating / activity.scored, 6) end as activity_rate,
        round(activity.mean_activity_index, 2) as mean_activity_index
    from grid
    left join flows
        on flows.month = grid.month and flows.district_code = grid.district_code
        and flows.industry_code = grid.industry_code
    left join activity
        on activity.month = grid.month and activity.district_code = grid.district_code
        and activity.industry_code = grid.industry_code
)

select
    *,
    round(stock / nullif(sum(stock) over (partition by month, district_code), 0), 6) as industry_share,
    round(stock / nullif(lag(stock) over (partition by district_code, industry_code order by month), 0) - 1, 6)
        as stock_mom,
    round(stock / nullif(lag(stock, 12) over (partition by district_code, industry_code order by month), 0) - 1, 6)
        as stock_yoy,
    new_registrations - lag(new_registrations) over (partition by district_code, industry_code order by month)
        as new_registrations_mom_change,
    new_registrations - lag(new_registrations, 12) over (partition by district_code, industry_code order by month)
        as new_registrations_yoy_change
from joined
