-- Account register of the utilities and the bank: account -> enterprise (the latest delivery wins).
with accounts as (
    select 'water' as utility, account_id, enterprise_id, period from {{ ref('stg_water__accounts') }}
    union all
    select 'gas' as utility, account_id, enterprise_id, period from {{ ref('stg_gas__accounts') }}
    union all
    select 'bank' as utility, account_id, enterprise_id, period from {{ ref('stg_bank__accounts') }}
),

ranked as (
    select *, row_number() over (partition by utility, account_id order by period desc) as recency
    from accounts
)

select utility, account_id, enterprise_id
from ranked
where recency = 1
