{{ config(materialized='incremental', incremental_strategy='insert_overwrite', partition_by=['month'],
          on_schema_change='sync_all_columns',
          recompute_with=['stg_power__consumption', 'stg_water__consumption', 'stg_gas__consumption']) }}
-- Utility use per enterprise, month and utility. Power rows name the enterprise; water and gas readings are keyed
-- by account and reach the enterprise through the utility's account register (catalogue: links_via).
-- Incremental (macro recompute_since): a run rewrites, whole, every month from the earliest its deliveries hold.
{%- set since = recompute_since() %}
with power as (
    select enterprise_id, month, 'power' as utility, kwh as quantity, 'kWh' as unit
    from {{ ref('stg_power__consumption') }}
    {% if since %}where month >= '{{ since }}'{% endif %}
),

water as (
    select accounts.enterprise_id, readings.month, 'water' as utility, readings.m3 as quantity, 'm3' as unit
    from (select * from {{ ref('stg_water__consumption') }}
          {% if since %}where month >= '{{ since }}'{% endif %}) as readings
    inner join {{ ref('stg_utilities__accounts') }} as accounts
        on accounts.account_id = readings.account_id and accounts.utility = 'water'
),

gas as (
    select accounts.enterprise_id, readings.month, 'gas' as utility, readings.m3 as quantity, 'm3' as unit
    from (select * from {{ ref('stg_gas__consumption') }}
          {% if since %}where month >= '{{ since }}'{% endif %}) as readings
    inner join {{ ref('stg_utilities__accounts') }} as accounts
        on accounts.account_id = readings.account_id and accounts.utility = 'gas'
),

unioned as (
    select * from power
    union all
    select * from water
    union all
    select * from gas
)

select
    enterprise_id,
    month,
    utility,
    unit,
    cast(sum(quantity) as double) as quantity,
    count(*) as accounts_read
from unioned
group by enterprise_id, month, utility, unit
