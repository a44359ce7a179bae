-- Regional economic development index (区域经济发展指数) per division and month, 0-100, from three components
-- (docs/indicators.md): market vitality (net growth of the stock), operating health (activity rate) and
-- investment (new registered capital per 1,000 enterprises, against the city in the same month).
with divisions as (
    select
        month, month_start, district_code, district_name,
        sum(new_registrations) as new_registrations,
        sum(deregistrations) as deregistrations,
        sum(net_growth) as net_growth,
        sum(stock) as stock,
        sum(operating) as operating,
        sum(dormant) as dormant,
        sum(new_capital_10k_cny) as new_capital_10k_cny,
        sum(stock_capital_10k_cny) as stock_capital_10k_cny
    from {{ ref('mart_region_indicators_monthly') }}
    group by month, month_start, district_code, district_name
),

rates as (
    select
        *,
        net_growth / nullif(stock, 0) as net_growth_rate,
        operating / nullif(stock, 0) as activity_rate,
        new_capital_10k_cny / nullif(stock, 0) * 1000 as new_capital_per_1000
    from divisions
),

city as (
    select month, avg(new_capital_per_1000) as city_capital_per_1000 from rates group by month
),

components as (
    select
        rates.*,
        -- Net monthly growth of -1% maps to 0 and +2% to 100 (Guiyang's stock grew ~1% a month in 2016-2020).
        greatest(least((coalesce(net_growth_rate, 0) + 0.01) / 0.03, 1.0), 0.0) * 100 as vitality_score,
        coalesce(activity_rate, 0) * 100 as health_score,
        greatest(least(coalesce(new_capital_per_1000 / nullif(city.city_capital_per_1000, 0), 0) / 2, 1.0), 0.0) * 100
            as investment_score
    from rates
    inner join city on city.month = rates.month
)

select
    month, month_start, district_code, district_name, new_registrations, deregistrations, net_growth, stock,
    operating, dormant, new_capital_10k_cny, stock_capital_10k_cny,
    round(net_growth_rate, 6) as net_growth_rate,
    round(activity_rate, 6) as activity_rate,
    round(vitality_score, 2) as vitality_score,
    round(health_score, 2) as health_score,
    round(investment_score, 2) as investment_score,
    round(0.35 * vitality_score + 0.40 * health_score + 0.25 * investment_score, 2) as development_index,
    round(0.35 * vitality_score + 0.40 * health_score + 0.25 * investment_score
          - lag(0.35 * vitality_score + 0.40 * health_score + 0.25 * investment_score)
            over (partition by district_code order by month), 2) as development_index_mom_change
from components
