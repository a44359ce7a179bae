-- Social-insurance contributions per enterprise and month (headcount of the largest scheme).
select
    enterprise_id,
    month,
    cast(max(insured_headcount) as bigint) as insured_headcount,
    cast(sum(amount_due_cny) as double) as amount_due_cny,
    cast(sum(amount_paid_cny) as double) as amount_paid_cny,
    cast(max(months_in_arrears) as bigint) as months_in_arrears
from {{ ref('stg_hrss__social_insurance') }}
group by enterprise_id, month
