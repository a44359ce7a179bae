-- The months the lake holds: every month some source delivered, with its first and last day.
with delivered as (
    select period from {{ ref('stg_samr__registrations') }}
    union
    select month as period from {{ ref('stg_tax__filings') }}
    union
    select month as period from {{ ref('stg_power__consumption') }}
)

select distinct
    period as month,
    to_date(concat(period, '-01')) as month_start,
    last_day(to_date(concat(period, '-01'))) as month_end
from delivered
where period is not null
