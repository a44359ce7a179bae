-- Monthly activity of enterprises' bank accounts (basic deposit accounts reported by the banks).
select
    accounts.enterprise_id,
    activity.month,
    cast(sum(activity.transactions) as bigint) as transactions,
    cast(sum(activity.inflow_cny) as double) as inflow_cny,
    cast(sum(activity.outflow_cny) as double) as outflow_cny,
    cast(sum(activity.counterparties) as bigint) as counterparties
from {{ ref('stg_bank__monthly_activity') }} as activity
inner join {{ ref('stg_utilities__accounts') }} as accounts
    on accounts.account_id = activity.account_id and accounts.utility = 'bank'
group by accounts.enterprise_id, activity.month
